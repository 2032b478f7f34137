"""`cstrack metabase sync` against a stateful fake Metabase that validates every request body against
Metabase's own OpenAPI schemas (tests/fake_metabase.py), plus an opt-in test against a real Metabase
when METABASE_URL is set."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
import requests

from cstrack.errors import CstrackError
from cstrack.serve import dashboards, metabase

sys.path.insert(0, str(Path(__file__).parent))  # the fake is a helper module beside the tests (never `import tests`)
from fake_metabase import FakeMetabase

SPECS = dashboards.load_dashboards()
TABLES = [("marts", t) for d in SPECS for t in d.marts] + [("raw", "catalogue_record"), ("ops", "load_run")]
ADMIN, PASSWORD = "admin@example.org", "correct-horse-battery-9"


def settings(mb: FakeMetabase, **changes) -> metabase.Settings:
    base = metabase.Settings(
        url=mb.url, api_key=None, user=ADMIN, password=PASSWORD, reporter_password="reporter-secret",
        db_host="warehouse", db_port=5432, db_name="cstrack", sync_timeout=5, poll_interval=0.01,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.fixture
def mb():
    with FakeMetabase(tables=TABLES) as fake:
        yield fake


@pytest.mark.fast
def test_fresh_metabase_is_set_up_and_provisioned(mb):
    result = metabase.sync(settings(mb, public_links=True), SPECS)

    assert result.set_up
    assert [r.status for r in mb.calls() if r.status >= 400] == []
    setup = mb.calls("POST", "/api/setup")
    assert len(setup) == 1 and setup[0].body["token"] == mb.setup_token and setup[0].body["user"]["email"] == ADMIN

    [db] = mb.databases.values()
    assert db["details"]["user"] == "cstrack_reporter" and db["details"]["password"] == "reporter-secret"
    assert (db["details"]["host"], db["details"]["dbname"]) == ("warehouse", "cstrack")
    assert db["details"]["schema-filters-patterns"] == "marts"
    # schema sync triggered, then awaited by polling until the marts tables appeared
    assert len(mb.calls("POST", f"/api/database/{db['id']}/sync_schema")) == 1
    assert len(mb.calls("GET", f"/api/database/{db['id']}/metadata")) > 2
    assert {t["name"] for t in db["tables"]} == {t for s, t in TABLES if s == "marts"}  # the schema filter held

    roots = [c for c in mb.collections.values() if c["location"] == "/"]
    assert len(roots) == 1 and len(mb.collections) == 1 + len(SPECS)
    assert len(mb.cards) == sum(len(d.cards) for d in SPECS)
    assert len(mb.dashboards) == len(SPECS)
    for spec in SPECS:
        [dash] = [d for d in mb.dashboards.values() if d["name"] == spec.title]
        assert {p["slug"] for p in dash["parameters"]} == {f.slug for f in spec.filters}
        assert len(dash["dashcards"]) == len(spec.cards)
        for dashcard in dash["dashcards"]:
            card = mb.cards[dashcard["card_id"]]
            spec_card = next(c for c in spec.cards if card["description"].endswith(f"/{c.id}]"))
            native = card["dataset_query"]["native"]
            assert native["query"] == spec_card.sql
            assert set(native["template-tags"]) == {f.slug for f in spec_card.filters}
            targets = {m["target"][1][1] for m in dashcard["parameter_mappings"]}
            assert targets == {f.slug for f in spec_card.filters}
            assert (dashcard["size_x"], dashcard["size_y"]) == (spec_card.width, spec_card.height)
        assert result.public_links[spec.id].endswith(f"/public/dashboard/{dash['public_uuid']}")
    # dashcards are placed by PUT /api/dashboard/{id}; the endpoint removed in 0.47 is never called
    assert all("dashcards" not in r.body for r in mb.calls("POST", "/api/dashboard") if r.path == "/api/dashboard")
    assert not [r for r in mb.calls() if r.path.endswith("/cards")]


@pytest.mark.fast
def test_second_sync_sends_no_post_and_changes_nothing(mb):
    metabase.sync(settings(mb, public_links=True), SPECS)
    before = repr((mb.databases, mb.collections, mb.cards, mb.dashboards, mb.settings))
    mb.reset_log()

    result = metabase.sync(settings(mb, public_links=True), SPECS)

    assert mb.writes() == []  # the only POST is logging in
    assert [r.path for r in mb.calls("POST")] == ["/api/session"]
    assert result.created == result.updated == [] and not result.set_up
    assert repr((mb.databases, mb.collections, mb.cards, mb.dashboards, mb.settings)) == before


@pytest.mark.fast
def test_sync_with_an_api_key_sends_no_post_at_all(mb):
    metabase.sync(settings(mb), SPECS)
    key = requests.post(
        mb.url + "/api/api-key", json={"name": "cstrack", "group_id": 2},
        headers={"X-Metabase-Session": next(iter(mb.sessions))}, timeout=10,
    ).json()["unmasked_key"]  # fmt: skip
    mb.reset_log()

    metabase.sync(settings(mb, api_key=key, user=None, password=None), SPECS)

    assert mb.calls("POST") == [] and mb.calls("PUT") == []


@pytest.mark.fast
def test_changed_card_sql_sends_exactly_one_update(mb):
    metabase.sync(settings(mb), SPECS)
    spec = SPECS[0]
    card = spec.cards[0]
    changed_card = dataclasses.replace(card, sql=card.sql.replace("select", "select /* v2 */", 1))
    changed = [dataclasses.replace(spec, cards=(changed_card, *spec.cards[1:])), *SPECS[1:]]
    mb.reset_log()

    result = metabase.sync(settings(mb), changed)

    [write] = mb.writes()
    assert write.method == "PUT" and write.path.startswith("/api/card/")
    assert mb.cards[int(write.path.rsplit("/", 1)[1])]["dataset_query"]["native"]["query"] == changed_card.sql
    assert result.updated == [f"card {spec.id}/{card.id}"]


@pytest.mark.fast
def test_card_removed_from_spec_is_archived_and_leaves_the_dashboard(mb):
    metabase.sync(settings(mb), SPECS)
    spec = SPECS[0]
    fewer = [dataclasses.replace(spec, cards=spec.cards[1:]), *SPECS[1:]]
    mb.reset_log()

    result = metabase.sync(settings(mb), fewer)

    [dash] = [d for d in mb.dashboards.values() if d["name"] == spec.title]
    assert len(dash["dashcards"]) == len(spec.cards) - 1
    archived = [c for c in mb.cards.values() if c["archived"]]
    assert [c["name"] for c in archived] == [spec.cards[0].title] and result.archived
    assert mb.calls("POST") == mb.calls("POST", "/api/session")


@pytest.mark.fast
def test_error_names_the_endpoint_and_metabase_message(mb):
    mb.fail("POST", "/api/card", 500, "Card could not be saved: disk full")
    with pytest.raises(CstrackError, match=r"POST /api/card failed \(HTTP 500\): Card could not be saved: disk full"):
        metabase.sync(settings(mb), SPECS)


@pytest.mark.fast
def test_wrong_password_names_the_session_endpoint(mb):
    mb.add_user(ADMIN, PASSWORD)
    with pytest.raises(CstrackError, match="POST /api/session.*did not match stored password"):
        metabase.sync(settings(mb, password="wrong-password"), SPECS)


@pytest.mark.fast
def test_invalid_body_is_rejected_by_metabase_schema_and_reported(mb):
    """A body our code would get wrong (a dashcard off the 24-column grid) fails the sync loudly."""
    metabase.sync(settings(mb), SPECS)
    spec = SPECS[0]
    too_wide = dataclasses.replace(spec.cards[0], width=30)  # bypasses spec validation on purpose
    with pytest.raises(CstrackError, match=r"PUT /api/dashboard/\d+ failed \(HTTP 400\): dashcards/0/size_x"):
        metabase.sync(settings(mb), [dataclasses.replace(spec, cards=(too_wide, *spec.cards[1:]))])


@pytest.mark.fast
def test_schema_sync_that_never_shows_the_marts_times_out():
    with (
        FakeMetabase(tables=[("marts", "dim_project")]) as fake,
        pytest.raises(CstrackError, match=r"did not show marts\.agg_\w+, .* more after 0.3 s: .* cstrack_reporter"),
    ):
        metabase.sync(settings(fake, sync_timeout=0.3), SPECS)


@pytest.mark.fast
def test_fake_validates_bodies_and_knows_removed_endpoints(mb):
    metabase.sync(settings(mb), SPECS)
    headers = {"X-Metabase-Session": next(iter(mb.sessions))}
    dash_id = next(iter(mb.dashboards))

    def send(method, path, body=None):
        return requests.request(method, mb.url + path, json=body, headers=headers, timeout=10)

    no_display = send("POST", "/api/card", {"name": "x", "dataset_query": {}, "visualization_settings": {}})
    assert no_display.status_code == 400 and "display" in no_display.json()["message"]
    not_native = send("POST", "/api/card", {
        "name": "x", "display": "table", "visualization_settings": {},
        "dataset_query": {"database": 1, "type": "query", "query": {}},
    })  # fmt: skip
    assert not_native.status_code == 400 and "dataset_query" in not_native.json()["message"]
    with_dashcards = send("POST", "/api/dashboard", {"name": "x", "dashcards": []})
    assert with_dashcards.status_code == 400 and "dashcards" in with_dashcards.json()["message"]
    off_grid = send(
        "PUT",
        f"/api/dashboard/{dash_id}",
        {"dashcards": [{"id": -1, "card_id": 1, "row": 0, "col": 20, "size_x": 8, "size_y": 4}]},
    )
    assert off_grid.status_code == 400 and "dashcards/0" in off_grid.json()["message"]
    assert send("POST", f"/api/dashboard/{dash_id}/cards", {"cardId": 1}).status_code == 404
    assert send("POST", "/api/setup",
                {"token": mb.setup_token, "user": {"email": "b@example.org", "password": "12345678x"},
                                       "prefs": {"site_name": "x"}}).status_code == 403  # fmt: skip
    assert requests.get(mb.url + "/api/card/1", timeout=10).status_code == 401
    # the database password comes back masked; 0.57 answers MBQL 5 unless asked for legacy MBQL
    assert send("GET", "/api/database").json()[0]["details"]["password"] == "**MetabasePass**"
    assert send("GET", "/api/card/1").json()["dataset_query"]["lib/type"] == "mbql/query"


@pytest.mark.fast
def test_maps_and_units_reach_metabase_as_region_maps_and_number_formats(mb):
    """The stand-in checks what real Metabase would accept but draw empty: a region map needs a built-in
    region and columns the query returns; column formats need a known style (tests/fake_metabase.py)."""
    metabase.sync(settings(mb), SPECS)
    cards = {card["name"]: card for card in mb.cards.values()}
    for title in ("Projects by country", "Projects with accessible data, by country"):
        shown = cards[title]["visualization_settings"]
        assert shown["map.type"] == "region" and shown["map.region"] == "world_countries"
        assert shown["map.dimension"] == "country_code"
    data_url = cards["Projects with a data URL"]["visualization_settings"]
    assert data_url["column_settings"] == {'["name","percent_data_url"]': {"number_style": "decimal", "decimals": 1,
                                                                            "suffix": " %"}}  # fmt: skip
    assert data_url["scalar.field"] == "percent_data_url"
    assert cards["Projects"]["visualization_settings"]["column_settings"] == {
        '["name","projects"]': {"suffix": " projects"}
    }

    headers = {"X-Metabase-Session": next(iter(mb.sessions))}
    card_id = next(i for i, c in mb.cards.items() if c["name"] == "Projects by country")
    for changes, message in (
        ({"map.region": "europe"}, "map.region of us_states, world_countries"),
        ({"map.dimension": "iso_code"}, "map.dimension: the query returns no column 'iso_code'"),
        ({"column_settings": {'["name","projects"]': {"number_style": "percentage"}}}, "bad number_style"),
    ):
        body = {"visualization_settings": cards["Projects by country"]["visualization_settings"] | changes}
        answer = requests.put(f"{mb.url}/api/card/{card_id}", json=body, headers=headers, timeout=10)
        assert answer.status_code == 400 and message in answer.json()["message"], answer.text


@pytest.mark.fast
def test_cli_sync_and_its_one_line_errors(mb, cstrack, tmp_path):
    env = {"METABASE_URL": mb.url, "METABASE_USER": ADMIN, "METABASE_PASSWORD": PASSWORD,
           "CSTRACK_REPORTER_PASSWORD": "reporter-secret", "METABASE_WAREHOUSE_HOST": "warehouse",
           "METABASE_WAREHOUSE_DB": "cstrack", "METABASE_API_KEY": ""}  # fmt: skip
    done = cstrack("metabase", "sync", env=env, check=True)
    assert "first admin set up" in done.stdout and "0 updated" in done.stdout

    again = cstrack("metabase", "sync", env=env, check=True)
    assert (
        f"0 created, 0 updated, {len(mb.cards) + len(mb.dashboards) + len(mb.collections) + 1} unchanged"
        in again.stdout
    )

    missing = cstrack("metabase", "sync", env={**env, "CSTRACK_REPORTER_PASSWORD": ""})
    assert missing.returncode == 2 and missing.stderr.strip() == (
        "cstrack: error: CSTRACK_REPORTER_PASSWORD is not set: Metabase connects to the warehouse as cstrack_reporter"
    )
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "dashboard: bad\ntitle: Bad\ncards:\n  - {id: a, title: A,"
        " display: donut, sql: select 1 from marts.dim_project}\n"
    )
    mb.reset_log()
    refused = cstrack("metabase", "sync", "--dashboards", str(tmp_path), env=env)
    assert refused.returncode == 2 and "dashboards/bad.yml: card a: display: 'donut'" in refused.stderr
    assert mb.calls() == []  # a bad spec fails before anything is sent


@pytest.mark.skipif(
    not os.environ.get("METABASE_URL"), reason="opt-in: set METABASE_URL (and credentials) to sync a real Metabase"
)
def test_live_metabase_sync_is_idempotent():
    """Against a real Metabase (e.g. infra/ docker compose): sync twice; the second changes nothing."""
    live = metabase.settings_from_env()
    metabase.sync(live, SPECS)
    second = metabase.sync(live, SPECS)
    assert second.created == second.updated == [] and second.unchanged


@pytest.mark.fast
def test_unreachable_metabase_names_the_endpoint():
    with pytest.raises(CstrackError, match=r"^Metabase GET /api/session/properties failed: .*127\.0\.0\.1"):
        metabase.sync(settings_for_url("http://127.0.0.1:9"), SPECS)


def settings_for_url(url: str) -> metabase.Settings:
    return metabase.Settings(url, None, ADMIN, PASSWORD, "pw", "warehouse", 5432, "cstrack")


@pytest.mark.parametrize(
    "env,message",
    [
        ({"METABASE_URL": ""}, "METABASE_URL is not set"),
        ({"METABASE_PASSWORD": ""}, "set METABASE_API_KEY, or METABASE_USER and METABASE_PASSWORD"),
        (
            {"WAREHOUSE_URL": "postgresql://postgres@/cstrack?host=/tmp/socketdir", "METABASE_WAREHOUSE_HOST": ""},
            "the warehouse listens on a Unix socket (/tmp/socketdir) that Metabase cannot reach",
        ),
        ({"METABASE_SYNC_TIMEOUT": "soon"}, "METABASE_SYNC_TIMEOUT and METABASE_WAREHOUSE_PORT must be numbers"),
    ],
)
@pytest.mark.fast
def test_settings_from_env_refuse_what_cannot_work(monkeypatch, env, message):
    base = {"METABASE_URL": "http://mb:3000", "METABASE_USER": ADMIN, "METABASE_PASSWORD": PASSWORD,
            "METABASE_API_KEY": "", "CSTRACK_REPORTER_PASSWORD": "pw", "METABASE_WAREHOUSE_HOST": "warehouse",
            "METABASE_WAREHOUSE_DB": "cstrack", "METABASE_WAREHOUSE_PORT": "5432"}  # fmt: skip
    for key, value in {**base, **env}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(CstrackError) as err:
        metabase.settings_from_env()
    assert str(err.value).startswith(message)
