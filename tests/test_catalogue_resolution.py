"""Entity resolution, SDG/topic tagging, snapshots, landscape indicators and the PPSR export, on a real
PostgreSQL with real dbt builds: two small catalogues that list some of the same projects."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from cstrack import warehouse
from cstrack.ingest.catalogue import load_catalogue
from cstrack.publish import marts
from cstrack.serve import export

SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")


def run_query(wh, sql: str, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


MAPPING_A = """
source: alpha_catalogue
title: Alpha test catalogue
licence: CC0-1.0
format: csv
id: id
fields:
  title: name
  description: about
  url: {column: website, parse: url}
  status: state
  countries: {column: country, split: ",", parse: country}
  topics: {column: categories, split: ","}
  sdgs: {columns_matching: "^SDG (\\\\d+) ", values: {"2": direct, "1": indirect}}
  start_date: {column: started, parse: date}
"""

DATA_A = """id,name,about,website,state,country,categories,SDG 13 Climate action,SDG 15 Life on land,started
a1,Great Backyard Bird Count,Count birds in your garden for four days.,https://www.birdcount.org/gbbc/?utm_source=newsletter&utm_medium=email,active,United States,birds,,2,1998
a2,Mystery Project One,Volunteers measure rainfall.,unknown,active,Germany,,2,,2010
a3,Great Sunflower Project,Watch bees visit sunflowers.,https://sunflower-a.example.org/,active,USA,insects,,1,2012-04-01
a4,Stadtklima Messnetz,Wir messen die Temperatur in der Stadt und den Klimawandel mit Sensoren auf den Balkonen.,https://platform.example.net/,ongoing,DE,,,,2019
a5,Wiesen Monitoring,Die Vögel und Insekten auf den Wiesen werden von den Freiwilligen gezählt und die Artenvielfalt wird beobachtet.,https://platform.example.net/,hiatus,DE,,,,1736
"""  # noqa: E501 -- CSV rows: a line break would be a new record

MAPPING_B = """
source: beta_platform
title: Beta test platform
licence: CC0-1.0
format: json
records: projects
id: uid
fields:
  title: title
  description: text
  url: {column: link, parse: url}
  status: {column: phase, map: {running: active, done: completed}}
  countries: {column: where, parse: country}
"""

DATA_B = {
    "projects": [
        {
            "uid": "b1",
            "title": "GBBC",
            "text": "Birds.",
            "link": "http://birdcount.org/gbbc",
            "phase": "running",
            "where": "US",
        },
        {
            "uid": "b2",
            "title": "Mystery Project Two",
            "text": "Counting stars.",
            "link": "unknown",
            "phase": "running",
            "where": "DE",
        },
        {
            "uid": "b3",
            "title": "The Great Sunflower Project",
            "text": "Bees.",
            "link": "https://sunflower-b.example.org",
            "phase": "running",
            "where": "US",
        },
        {
            "uid": "b4",
            "title": "Great Sunflower Project",
            "text": "Same title, other country.",
            "link": "https://sunflower-fr.example.org",
            "phase": "done",
            "where": "France",
        },
        {
            "uid": "b5",
            "title": "Platform home",
            "text": "A record whose URL is another source's platform page.",
            "link": "https://platform.example.net",
            "phase": "running",
            "where": "DE",
        },
    ]
}


@pytest.fixture(scope="module")
def catalogue_wh():
    """A fresh database with both catalogues loaded and published once."""
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    folder = Path(tempfile.mkdtemp(prefix="cst-res-"))
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", url)
        mp.setenv("CSTRACK_HOME", str(folder / "home"))
        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        (folder / "alpha_catalogue.yml").write_text(MAPPING_A)
        (folder / "alpha_catalogue.csv").write_text(DATA_A)
        (folder / "beta_platform.yml").write_text(MAPPING_B)
        (folder / "beta_platform.json").write_text(json.dumps(DATA_B))
        load_catalogue(folder / "alpha_catalogue.yml", folder / "alpha_catalogue.csv", wh)
        load_catalogue(folder / "beta_platform.yml", folder / "beta_platform.json", wh)
        marts.build(wh)
        yield wh, folder
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
    shutil.rmtree(folder, ignore_errors=True)


def project_of(wh, source_record_id: str) -> str:
    return run_query(
        wh, "select project_key from marts.bridge_project_source where source_record_id = %s", (source_record_id,)
    )[0][0]


def test_url_variants_from_two_sources_resolve_to_one_project(catalogue_wh):
    wh, _ = catalogue_wh
    # https + www. + trailing slash + utm_* parameters on one side, http without www. on the other
    assert project_of(wh, "a1") == project_of(wh, "b1")
    rules = dict(
        run_query(
            wh,
            "select source_record_id, match_rule from"
            " marts.bridge_project_source where source_record_id in ('a1', 'b1')",
        )
    )
    assert rules == {"a1": "url", "b1": "url"}


def test_placeholder_and_platform_urls_never_merge(catalogue_wh):
    wh, _ = catalogue_wh
    # both 'unknown', same country: two different projects
    assert project_of(wh, "a2") != project_of(wh, "b2")
    # a URL that alpha gives to two of its records is a platform page: it merges neither with beta's b5
    assert len({project_of(wh, "a4"), project_of(wh, "a5"), project_of(wh, "b5")}) == 3


def test_near_identical_titles_merge_within_a_country_only(catalogue_wh):
    wh, _ = catalogue_wh
    assert project_of(wh, "a3") == project_of(wh, "b3")  # "Great Sunflower Project" ~ "The Great Sunflower Project", US
    assert project_of(wh, "b4") != project_of(wh, "a3")  # same title, France
    assert (
        run_query(wh, "select match_rule from marts.bridge_project_source where source_record_id = 'b3'")[0][0]
        == "title"
    )


def test_every_source_record_appears_exactly_once(catalogue_wh):
    wh, _ = catalogue_wh
    loaded = run_query(wh, "select source_system, source_record_id from raw.catalogue_record order by 1, 2")
    bridged = run_query(wh, "select source_system, source_record_id from marts.bridge_project_source order by 1, 2")
    assert bridged == loaded and len(loaded) == 10
    (n_projects,) = run_query(wh, "select count(*) from marts.dim_project")[0]
    assert n_projects == 8  # 10 records, two merges
    (platforms,) = run_query(
        wh, "select platforms from marts.dim_project where project_key = %s", (project_of(wh, "a1"),)
    )[0]
    assert platforms == "alpha_catalogue, beta_platform"


def test_source_sdg_labels_come_through_exactly_and_inferred_tags_are_marked(catalogue_wh):
    wh, _ = catalogue_wh
    labelled = run_query(
        wh,
        "select sdg, relevance from marts.bridge_project_sdg where project_key = %s order by sdg",
        (project_of(wh, "a2"),),
    )
    assert labelled == [(13, "direct")]
    # a1 carries SDG 15 (direct); b1 (merged into it) has no labels and a text without keywords
    assert run_query(
        wh, "select sdg, relevance from marts.bridge_project_sdg where project_key = %s", (project_of(wh, "a1"),)
    ) == [(15, "direct")]
    assert run_query(
        wh, "select sdg, relevance from marts.bridge_project_sdg where project_key = %s", (project_of(wh, "a3"),)
    ) == [(15, "indirect")]
    # a4 has no labels: German text about Klimawandel and Stadt -> inferred SDG 13 and 11, in German
    inferred = run_query(
        wh,
        "select sdg, relevance from marts.bridge_project_sdg where project_key = %s order by sdg",
        (project_of(wh, "a4"),),
    )
    assert inferred == [(11, "inferred"), (13, "inferred")]
    (language,) = run_query(
        wh, "select language from marts.dim_project where project_key = %s", (project_of(wh, "a4"),)
    )[0]
    assert language == "de"  # detected offline from the description


def test_topics_from_source_categories_win_over_inferred(catalogue_wh):
    wh, _ = catalogue_wh
    assert run_query(
        wh, "select topic, origin from marts.bridge_project_topic where project_key = %s", (project_of(wh, "a3"),)
    ) == [("Insects & pollinators", "source")]
    inferred = run_query(
        wh,
        "select topic, origin from marts.bridge_project_topic where project_key = %s order by 1",
        (project_of(wh, "a5"),),
    )
    assert ("Birds", "inferred") in inferred and ("Insects & pollinators", "inferred") in inferred


def test_tagging_precision_and_recall_are_reported_against_labels(catalogue_wh):
    wh, _ = catalogue_wh
    rows = dict(
        (r[0], r[1:])
        for r in run_query(
            wh,
            "select source_system, n_records, true_positives,"
            " false_positives, false_negatives, sdg_precision, sdg_recall"
            " from marts.rpt_sdg_tagging_evaluation",
        )
    )
    n_records, tp, fp, fn, precision, recall = rows["alpha_catalogue"]
    assert n_records == 3 and tp + fn == 3  # three labelled (record, SDG) pairs
    if tp + fp:
        assert float(precision) == round(tp / (tp + fp), 4)
    assert float(recall) == round(tp / (tp + fn), 4)
    assert rows["all"][1:4] == (tp, fp, fn)


def test_every_country_is_iso2(catalogue_wh):
    wh, _ = catalogue_wh
    codes = {r[0] for r in run_query(wh, "select country_code from marts.bridge_project_country")}
    valid = {r[0] for r in run_query(wh, "select country_code from vocab.country")}
    assert codes == {"US", "DE", "FR"} and codes <= valid


def test_landscape_indicators_match_the_marts(catalogue_wh):
    wh, _ = catalogue_wh
    values = {
        (code, dim): (value, denominator)
        for code, dim, value, denominator in run_query(
            wh, "select indicator_code, dimension_value, value, denominator from marts.fct_indicator_value"
        )
    }
    assert values[("LAND_PROJECTS", "all")] == (8, 8)
    assert values[("LAND_PROJECTS_BY_COUNTRY", "US")] == (2, 8)  # birds and sunflowers, each merged from two sources
    assert values[("LAND_PROJECTS_BY_PLATFORM", "beta_platform")][0] == 5
    codes = {r[0] for r in run_query(wh, "select distinct indicator_code from marts.fct_indicator_value")}
    defined = {r[0] for r in run_query(wh, "select indicator_code from marts.dim_indicator")}
    assert codes <= defined


def test_ppsr_export_validates_and_keeps_provenance(catalogue_wh, tmp_path):
    wh, _ = catalogue_wh
    path, n = export.export_ppsr(wh, tmp_path / "ppsr.json")
    document = json.loads(path.read_text())
    assert list(export.validator().iter_errors(document)) == []  # the whole document, formats checked
    exported = {p["projectId"] for p in document["Project"]}
    left_out = {e["projectId"]: e["reason"] for e in document["export"]["leftOut"]}
    assert n == len(exported) and len(exported) + len(left_out) == 8
    # beta gives no start dates: its projects that no alpha record joined are left out, with that reason
    assert {left_out[project_of(wh, r)] for r in ("b2", "b4", "b5")} == {"no start date"}
    birds = project_of(wh, "a1")
    assert birds in exported and project_of(wh, "a5") in exported  # a5 started in 1736
    assert sorted(s["sourceRecordId"] for s in document["provenance"][birds]["sources"]) == ["a1", "b1"]
    assert "birdcount" not in export.SCHEMA_PATH.read_text()  # the schema is generic, the data carries the project


def test_snapshot_keeps_status_history(catalogue_wh):
    wh, folder = catalogue_wh
    # alpha's next export: a1 has ended
    (folder / "alpha_catalogue.csv").write_text(
        DATA_A.replace("email,active,United States", "email,completed,United States")
    )
    load_catalogue(folder / "alpha_catalogue.yml", folder / "alpha_catalogue.csv", wh)
    marts.build(wh)
    history = run_query(
        wh,
        "select status, dbt_valid_to is null from snapshots.catalogue_record_snapshot"
        " where source_record_id = 'a1' order by dbt_valid_from",
    )
    assert history == [("active", False), ("completed", True)]
