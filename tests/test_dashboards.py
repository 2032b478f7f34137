"""Dashboard specs: validation, template rendering, dbt exposures, and every card's SQL run against real
marts as the reporter role, with the filters' defaults and with each filter set to its example."""

from __future__ import annotations

import os
import textwrap
from itertools import combinations
from pathlib import Path

import psycopg
import pytest

from cstrack import warehouse
from cstrack.serve import dashboards
from cstrack.serve.dashboards import SpecError

SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
SPECS = dashboards.load_dashboards()
CARDS = [(d, c) for d in SPECS for c in d.cards]


@pytest.fixture(scope="module")
def marts_db(demo_warehouse):
    """Real marts: the demo warehouse built once per session from every bundled sample source."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in demo_warehouse.env.items():
            env.setenv(key, value)
        yield demo_warehouse.wh


def run_as_reporter(wh, card, values):
    sql, params = dashboards.render_sql(card, values)
    with warehouse.connect(wh) as conn:
        conn.execute("set role cstrack_reporter")
        cursor = conn.execute(sql, params)
        return [col.name for col in cursor.description], cursor.fetchall()


@pytest.mark.parametrize("dashboard,card", CARDS, ids=[f"{d.id}/{c.id}" for d, c in CARDS])
def test_card_runs_on_real_marts_as_reporter(marts_db, dashboard, card):
    columns, rows = run_as_reporter(marts_db, card, dashboard.defaults())
    for column in ([card.x] if card.x else []) + list(card.y):
        assert column in columns, f"{dashboard.id}/{card.id}: no column {column!r} in {columns}"
    if card.display == "scalar":
        assert len(rows) == 1, f"{dashboard.id}/{card.id}: a scalar card must answer one row"
    for flt in card.filters:
        run_as_reporter(marts_db, card, {**dashboard.defaults(), flt.slug: flt.example})
    run_as_reporter(marts_db, card, {f.slug: f.example for f in dashboard.filters})


def test_every_card_shows_the_sample_data_and_filters_narrow_them(marts_db):
    empty = [f"{d.id}/{c.id}" for d, c in CARDS if not run_as_reporter(marts_db, c, d.defaults())[1]]
    assert empty == [], "cards with no rows on the bundled sample data"
    total = next(d for d in SPECS if d.id == "cs_landscape").card("projects_total")
    everything = run_as_reporter(marts_db, total, {})[1][0][0]
    in_country = run_as_reporter(marts_db, total, {"country": "NL"})[1][0][0]
    assert 0 < in_country < everything


def test_distinct_authors_are_counted_exactly_under_every_filter(marts_db):
    """authors_total reads agg_social_author_reach (64-bit keys, last month overall and per project): the same
    number as counting distinct pseudonyms over every post of fct_social_post, under every combination of filters."""
    dashboard = next(d for d in SPECS if d.id == "participation_social")
    card = dashboard.card("authors_total")
    project_in = {
        "country": "project_key in (select project_key from marts.bridge_project_country where country_code = %s)",
        "sdg": "project_key in (select project_key from marts.bridge_project_sdg where sdg = %s::int)",
    }
    # every combination of the filters: the card's optional clauses narrow by the most specific one
    examples = {f.slug: f.example for f in card.filters}
    cases = [{k: examples[k] for k in subset} for n in range(4) for subset in combinations(examples, n)]
    counted = []
    for values in cases:
        where = [project_in[k] for k in values if k in project_in]
        params = [v for k, v in values.items() if k in project_in]
        if "period" in values:
            where.append("posted_month >= make_date(%s::int, 1, 1)")
            params.append(values["period"])
        condition = " and ".join(where) or "true"
        with warehouse.connect(marts_db) as conn:
            sql = f"select count(distinct author_pseudonym) from marts.fct_social_post where {condition}"
            expected = conn.execute(sql, params).fetchone()[0]
        assert run_as_reporter(marts_db, card, values)[1] == [(expected,)], values
        counted.append(expected)
    assert counted[0] > 0 and min(counted) < counted[0]  # the filters narrow


def test_reporter_cannot_read_outside_marts(marts_db):
    with warehouse.connect(marts_db) as conn:
        conn.execute("set role cstrack_reporter")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from ops.load_run")


@pytest.mark.fast
def test_committed_exposures_match_the_specs():
    committed = dashboards.exposures_path().read_text(encoding="utf-8")
    assert committed == dashboards.exposures_yaml(SPECS), "run `cstrack dashboards exposures` and commit the result"
    for spec in SPECS:
        assert f"- name: {spec.id}\n" in committed


# --- render_sql -----------------------------------------------------------------------------------------

SPEC = """\
dashboard: demo
title: Demo
filters:
  - {slug: country, name: Country, type: text, default: null, example: NL}
  - {slug: sdg, name: SDG, type: number, default: null, example: 15}
  - {slug: since, name: Since, type: date, default: null, example: 2020-01-01}
cards:
  - id: projects
    title: Projects
    display: bar
    sql: |
      select c.country_code, count(*) as projects, '100%' as scale
      from marts.bridge_project_country c
      where true [[and c.country_code = {{country}}]] [[and c.project_key in
        (select project_key from marts.bridge_project_sdg where sdg = {{ sdg }})]]
        [[and c.loaded_at >= {{since}}]]
      group by 1
    x: country_code
    y: projects
    filters: [country, sdg, since]
"""


def write_spec(tmp_path: Path, text: str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.fast
def test_render_sql_drops_empty_clauses_and_binds_values(tmp_path):
    card = dashboards.load_dashboard(write_spec(tmp_path, SPEC)).cards[0]
    sql, params = dashboards.render_sql(card, {})
    assert "{{" not in sql and "[[" not in sql and "country_code =" not in sql and params == {}
    assert "'100%%'" in sql  # psycopg formats the query: a literal % is doubled

    sql, params = dashboards.render_sql(card, {"country": "NL'; drop table x; --", "sdg": "15", "since": "2021-03-01"})
    assert "%(country)s" in sql and "%(sdg)s" in sql and "%(since)s" in sql and "drop table" not in sql
    assert params == {"country": "NL'; drop table x; --", "sdg": 15, "since": __import__("datetime").date(2021, 3, 1)}


def test_render_sql_runs_on_postgres(tmp_path):
    card = dashboards.load_dashboard(write_spec(tmp_path, SPEC)).cards[0]
    sql, params = dashboards.render_sql(card, {"country": "NL"})
    sql = sql.replace(
        "marts.bridge_project_country c", "(select 'NL' as country_code, 'p' as project_key, now() as loaded_at) c"
    )
    with psycopg.connect(SERVER) as conn:
        assert conn.execute(sql, params).fetchall() == [("NL", 1, "100%")]
        assert conn.execute(sql, {"country": "DE"}).fetchall() == []


@pytest.mark.fast
def test_spec_parses_marts_and_tags(tmp_path):
    card = dashboards.load_dashboard(write_spec(tmp_path, SPEC)).cards[0]
    assert card.marts == ("bridge_project_country", "bridge_project_sdg")
    assert card.tags == ("country", "sdg", "since")


BAD = [
    ("display: bar", "display: donut", "card projects: display: 'donut' is not one of"),
    (
        "[[and c.country_code = {{country}}]]",
        "and c.country_code = {{country}}",
        "card projects: sql: template tag {{country}} must be inside an optional [[ ... ]] clause",
    ),
    (
        "filters: [country, sdg, since]",
        "filters: [sdg, since]",
        "card projects: sql: template tag {{country}} is not declared in the card's filters",
    ),
    (
        "filters: [country, sdg, since]",
        "filters: [country, sdg, since, region]",
        "card projects: filters: 'region' is not a filter of the dashboard",
    ),
    (
        "from marts.bridge_project_country c",
        "from raw.catalogue_record c",
        "card projects: sql: reads 'raw.catalogue_record'; cards may read the marts schema only",
    ),
    (
        "from marts.bridge_project_country c",
        "from bridge_project_country c",
        "card projects: sql: reads 'bridge_project_country'",
    ),
    ("  - id: projects\n", "  - id: projects\n    colour: red\n", "card projects: unknown field 'colour'"),
    ("{slug: sdg, name: SDG, type: number,", "{slug: sdg, name: SDG, type: integer,", "filter sdg: type: 'integer'"),
    ("example: 15", "example: fifteen", "filter sdg: example: 'fifteen' is not a valid number"),
    ("dashboard: demo", "dashboard: other", "dashboard: 'other' must equal the file name 'demo'"),
    ("    x: country_code\n", "", "card projects: x and y: a bar card needs"),
    ("    display: bar\n", "    display: scalar\n", "card projects: units: a key figure says its unit: add units:"),
    (
        "    y: projects\n",
        "    y: projects\n    units: {projects: Projects!}\n",
        "cards.0.units.projects: 'Projects!' does not match",
    ),
    ("    y: projects\n", "    y: projects\n    units: percent\n", "card projects: units: a mapping"),
]


@pytest.mark.fast
@pytest.mark.parametrize("old,new,message", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_spec_fails_naming_file_card_and_field(tmp_path, old, new, message):
    assert old in SPEC
    path = write_spec(tmp_path, SPEC.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        dashboards.load_dashboard(path)
    assert str(err.value).startswith("dashboards/demo.yml: ") and message in str(err.value)


@pytest.mark.fast
def test_duplicate_ids_are_refused(tmp_path):
    card = SPEC[SPEC.index("  - id: projects") :]
    with pytest.raises(SpecError, match="dashboards/demo.yml: card projects: duplicate id"):
        dashboards.load_dashboard(write_spec(tmp_path, SPEC + card))
    slug = "  - {slug: country, name: Country, type: text, default: null, example: NL}\n"
    with pytest.raises(SpecError, match="dashboards/demo.yml: filter country: duplicate slug"):
        dashboards.load_dashboard(write_spec(tmp_path, SPEC.replace(slug, slug + slug)))


@pytest.mark.fast
def test_every_committed_spec_is_valid_and_reads_marts_only():
    assert {d.id for d in SPECS} >= {
        "cs_landscape", "data_practices", "data_quality", "participation_social", "participants_survey",
    }  # fmt: skip
    for spec in SPECS:
        assert spec.cards and all(card.marts for card in spec.cards)
        for card in spec.cards:  # every key figure says its unit (issue 15)
            assert card.display != "scalar" or card.unit(card.y[0]), f"{spec.id}/{card.id}"


@pytest.mark.fast
def test_the_data_practices_dashboard_has_what_policy_makers_asked_for():
    board = next(d for d in SPECS if d.id == "data_practices")
    displays = {card.id: card.display for card in board.cards}
    assert [c for c, d in displays.items() if d == "scalar"] == [
        "projects_assessed", "data_url_share", "reusable_share", "mean_completeness",
    ]  # fmt: skip
    assert displays["accessible_by_country"] == "map" and displays["fair_letters_by_country"] == "bar"
    assert displays["data_access_breakdown"] == "pie" and displays["least_complete_platforms"] == "table"
    assert board.card("completeness_by_platform").marts == ("fct_indicator_value",)  # formulas live in dbt
    assert board.card("fair_letters_by_country").y == ("findable", "accessible", "interoperable", "reusable")


def test_data_practices_figures_equal_the_indicators(marts_db):
    """The key figures (computed on dim_project, with filters) equal the FAIR_* indicators dbt publishes."""
    board = next(d for d in SPECS if d.id == "data_practices")
    for card_id, code in (("data_url_share", "FAIR_DATA_URL_SHARE"), ("reusable_share", "FAIR_REUSABLE_SHARE"),
                          ("mean_completeness", "FAIR_METADATA_COMPLETENESS")):  # fmt: skip
        for values, geography in (({}, "ALL"), ({"country": "NL"}, "NL")):
            shown = run_as_reporter(marts_db, board.card(card_id), values)[1][0][0]
            with warehouse.connect(marts_db) as conn:
                value = conn.execute(
                    "select value from marts.fct_indicator_value where indicator_code = %s and geography = %s"
                    " and dimension = %s",
                    (code, geography, "all" if geography == "ALL" else "country"),
                ).fetchone()[0]
            assert shown == round(100 * value, 1), (card_id, values)
    # a filter that leaves fewer than 5 projects withholds the share (as the indicators do)
    tiny = run_as_reporter(marts_db, board.card("data_url_share"), {"country": "BE"})
    assert tiny[1] == [(None,)]
