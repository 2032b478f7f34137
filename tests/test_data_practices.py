"""Data practices (FAIR) of the bundled NL catalogue, computed here from the CSV itself and compared with what
the warehouse publishes: the data URLs, the answers to "accessible for research", the data access."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cstrack.ingest.catalogue import load_catalogue
from cstrack.ingest.parsing import parse_data_access
from cstrack.publish import marts

PROJECT = Path(__file__).resolve().parents[1]
NL_CSV = PROJECT / "data" / "sample" / "catalogues" / "awesome_cs_nl.csv"
NL_MAPPING = PROJECT / "catalogues" / "awesome_cs_nl.yml"


@pytest.fixture(scope="module")
def nl_rows() -> list[dict]:
    with NL_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def nl_published(server_db, query):
    load_catalogue(NL_MAPPING, NL_CSV, server_db)
    marts.build(server_db)
    return server_db


def test_nl_data_urls_and_reuse_answers_are_published_as_the_file_says(nl_published, nl_rows, query):
    with_url = sum(1 for row in nl_rows if row["data_url"].strip())
    rejected = query(nl_published, "select coalesce(sum(n), 0) from ops.unmapped_values where field = 'data_url'")[0][0]
    yes = sum(1 for row in nl_rows if row["accessibility_for_research"].strip().casefold() == "yes")
    no = sum(1 for row in nl_rows if row["accessibility_for_research"].strip().casefold() == "no")
    published = query(
        nl_published,
        "select count(*), count(data_url), count(*) filter (where reusable_for_research),"
        " count(*) filter (where not reusable_for_research) from marts.dim_project",
    )[0]
    assert published == (len(nl_rows), with_url - rejected, yes, no)
    assert (with_url, yes) == (138, 136)  # the file as bundled (135 "Yes" and one "yes")
    # an answer that is neither is counted for the analyst, not guessed
    unsure = sum(1 for row in nl_rows if row["accessibility_for_research"].strip() == "Unsure")
    counted = query(
        nl_published, "select coalesce(sum(n), 0) from ops.unmapped_values where field = 'reusable_for_research'"
    )[0][0]
    assert counted == unsure == 8


def test_nl_fair_indicators_equal_the_file_counts(nl_published, nl_rows, query):
    from cstrack.ingest.parsing import parse_country

    def countries(row: dict) -> set[str]:
        found = set()
        for part in row["country"].split(","):
            try:
                found.add(parse_country(part.strip()))
            except ValueError:
                pass
        return found

    in_nl = [row for row in nl_rows if "NL" in countries(row)]
    expected_nl = (sum(1 for row in in_nl if row["data_url"].strip()), len(in_nl))
    fair = {
        (dimension, value): (numerator, denominator)
        for dimension, value, numerator, denominator in query(
            nl_published,
            "select dimension, dimension_value, numerator, denominator from marts.fct_indicator_value"
            " where indicator_code = 'FAIR_DATA_URL_SHARE'",
        )
    }
    assert fair[("country", "NL")] == expected_nl
    assert fair[("source_system", "awesome_cs_nl")] == fair[("all", "all")] == (138, len(nl_rows))
    reusable = query(
        nl_published,
        "select numerator from marts.fct_indicator_value where indicator_code = 'FAIR_REUSABLE_SHARE'"
        " and dimension = 'all'",
    )
    assert reusable == [(136,)]  # no licence in the file: reusable = the yes answers


def test_nl_data_access_follows_the_alias_seed(nl_published, nl_rows, query):
    expected: dict = {}
    for row in nl_rows:
        access = parse_data_access(row["data_accessibility"])
        expected[access] = expected.get(access, 0) + 1
    published = dict(query(nl_published, "select data_access, count(*) from marts.dim_project group by 1"))
    assert published == expected
    assert expected["view"] == 130 and expected["none"] == 52  # "Viewable" (+ "Partly viewable"), "No direct download"


@pytest.mark.fast
@pytest.mark.parametrize(
    ("text", "access"),
    [("Downloadable", "download"), ("  viewable ", "view"), ("Viewable after application", "on_request"),
     ("No direct download", "none"), ("Probably viewable", None)],
)  # fmt: skip
def test_data_access_words(text, access):
    assert parse_data_access(text) == access


@pytest.mark.fast
def test_licence_names_become_spdx_ids_and_unknown_ones_are_refused():
    from cstrack.ingest.parsing import parse_licence

    assert parse_licence("CC BY 4.0") == parse_licence("cc-by-4.0") == "CC-BY-4.0"
    assert parse_licence("Creative Commons Zero 1.0") == "CC0-1.0"
    with pytest.raises(ValueError, match="not a known licence"):
        parse_licence("all rights reserved, ask us")
    # a licence's web address, as schema.org `license` gives it
    assert parse_licence("https://creativecommons.org/licenses/by-sa/4.0/legalcode") == "CC-BY-SA-4.0"
    assert parse_licence("http://www.opendatacommons.org/licenses/odbl/1-0/") == "ODbL-1.0"
    with pytest.raises(ValueError, match="not a known licence"):
        parse_licence("https://example.org/our-licence/")


# --- the crawler: schema.org pages that say where a project's data is --------------------------------

PAGE = {
    "@context": "https://schema.org", "@type": "ResearchProject", "@id": "https://cs.example/p/1",
    "name": "Stadtbäume", "description": "Wir kartieren Stadtbäume in Graz.", "url": "https://baeume.example",
    "subjectOf": [
        {"@type": "WebPage", "url": "https://news.example/baeume"},
        {"@type": ["Dataset"], "url": "https://data.example/baeume",
         "license": {"@type": "CreativeWork", "url": "https://creativecommons.org/licenses/by/4.0/"},
         "distribution": [{"@type": "DataDownload", "contentUrl": "https://data.example/baeume.csv"}]},
    ],
}  # fmt: skip


@pytest.mark.fast
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, ("https://data.example/baeume", "download", None, "CC-BY-4.0")),
        # a dataset to ask for, licence named in words
        ({"subjectOf": {"@type": "Dataset", "url": "https://data.example/b", "conditionsOfAccess": "on request",
                        "license": "CC BY-SA 4.0"}}, ("https://data.example/b", "on_request", None, "CC-BY-SA-4.0")),
        # no schema.org term: additionalProperty words, the licence on the project itself
        ({"subjectOf": None, "license": "CC0 1.0", "additionalProperty": [
            {"name": "data_access", "value": "none"}, {"name": "reusable_for_research", "value": "no"},
            {"name": "data_url", "value": "data.example/c"}]},
         ("https://data.example/c", "none", False, "CC0-1.0")),
        # nothing said: unknown, not "no"
        ({"subjectOf": None}, (None, None, None, None)),
    ],
    ids=["dataset with a download", "dataset on request", "additional properties", "nothing said"],
)  # fmt: skip
def test_the_crawler_reads_data_practices_from_schema_org(change, expected):
    from cstrack.ingest.crawl_extract import Canonicaliser, jsonld_project

    canon = Canonicaliser("de")
    record = jsonld_project({**PAGE, **change}, "https://cs.example/p/1", canon).record
    fields = ("data_url", "data_access", "reusable_for_research", "data_licence")
    assert tuple(record[f] for f in fields) == expected
    assert not canon.unmapped


@pytest.mark.fast
def test_an_unknown_licence_on_a_page_is_counted_not_guessed():
    from cstrack.ingest.crawl_extract import Canonicaliser, jsonld_project

    canon = Canonicaliser("de")
    record = jsonld_project({**PAGE, "subjectOf": {"@type": "Dataset", "license": "Eigene Lizenz"}}, "u", canon).record
    assert record["data_licence"] is None and canon.unmapped == {("data_licence", "Eigene Lizenz"): 1}
