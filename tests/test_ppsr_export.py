"""`cstrack export ppsr` writes a document that validates against the bundled PPSR Core JSON schema (our
encoding of the official Draft-7 schema's rules), with formats really checked: scheme-less URLs become
absolute, historic dates are ISO 8601 date-times, an unknown status leaves its project out with the reason,
a value that cannot be made valid is left out of its project with a warning."""

from __future__ import annotations

import csv
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
from cstrack.ingest.parsing import parse_url
from cstrack.publish import marts
from cstrack.serve import export

SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXTURES = Path(__file__).parent / "fixtures" / "ppsr"
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported():
    """The fixture catalogue loaded, built and exported once: (warehouse env, document, printed summary)."""
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    home = Path(tempfile.mkdtemp(prefix="cst-ppsr-"))
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    env = {"WAREHOUSE_URL": url, "CSTRACK_HOME": str(home)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        load_catalogue(FIXTURES / "ppsr_inventory.yml", FIXTURES / "ppsr_inventory.csv", wh)
        marts.build(wh)
        path, n = export.export_ppsr(wh, home / "ppsr.json")
        yield env, path, n
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
    shutil.rmtree(home, ignore_errors=True)


def by_name(document: dict) -> dict[str, dict]:
    return {p["projectName"]: p for p in document["Project"]}


def test_the_written_document_validates_with_zero_errors(exported):
    _, path, n = exported
    document = json.loads(path.read_text(encoding="utf-8"))
    errors = list(export.validator().iter_errors(document))
    assert errors == [] and n == len(document["Project"]) == 5
    required = json.loads(export.SCHEMA_PATH.read_text())["properties"]["Project"]["items"]["required"]
    assert len(required) == 16 and all(set(required) <= set(p) for p in document["Project"])


def test_values_are_made_valid(exported):
    _, path, _ = exported
    projects = by_name(json.loads(path.read_text(encoding="utf-8")))
    hedgehogs = projects["Hedgehog Street Watch"]
    assert hedgehogs["projectUrl"] == "https://www.hedgehog-street.example.org/watch"  # the mapping left it unparsed
    assert hedgehogs["projectStartDate"] == "1736-03-21T00:00:00+00:00"  # historic, a full date
    assert (hedgehogs["projectEndDate"], hedgehogs["projectDuration"]) == ("Unknown", "Unknown")
    assert hedgehogs["projectStatus"] == "Active" and hedgehogs["projectScienceType"] == "Biological Sciences - Zoology"
    tubes = projects["Air Quality Tubes"]
    assert tubes["projectUrl"] == "https://air-tubes.example.net"
    assert (tubes["projectStartDate"], tubes["projectEndDate"], tubes["projectDuration"]) == (
        "2014-12-31T23:59:59+00:00",
        "2019-12-31T23:59:59+00:00",
        "P5Y",  # a year alone, as the official inventory writes it
    )
    assert tubes["projectStatus"] == "Completed" and tubes["projectAim"] == "" and tubes["projectMedia"] == ""
    assert projects["Bürger messen Lärm"]["projectUrl"] == "https://laerm.example.de/%C3%9Cber%20uns"
    assert projects["Bürger messen Lärm"]["projectStatus"] == "Active"  # `ongoing` through ppsr_status_alias


def test_contact_details_stay_out(exported):
    _, path, _ = exported
    text = path.read_text(encoding="utf-8")
    assert "@" not in text and "Ann Example" not in text
    for project in json.loads(text)["Project"]:
        assert project["contactPoint"] == "" and project["projectResponsiblePartyContactEmail"] == ""


def test_bad_values_and_projects_are_left_out_with_reasons(exported):
    _, path, _ = exported
    document = json.loads(path.read_text(encoding="utf-8"))
    projects = by_name(document)
    assert "projectUrl" not in projects["Facebook Bird Group"]  # not a web address: left out, the project stays
    weather = projects["Old Weather Diaries"]  # ends (1750) before it starts (1762)
    assert (weather["projectStartDate"], weather["projectEndDate"], weather["projectDuration"]) == (
        "1762-12-31T23:59:59+00:00",
        "Unknown",
        "Unknown",
    )
    names = {p["projectId"]: p["projectName"] for p in document["Project"]}
    warned = sorted((names[w["projectId"]], w["warning"].split(":")[0]) for w in document["export"]["warnings"])
    assert warned == [("Facebook Bird Group", "projectUrl"), ("Old Weather Diaries", "projectEndDate")]
    left_out = sorted((e["projectName"], e["reason"].split(" (")[0]) for e in document["export"]["leftOut"])
    assert left_out == [
        ("Sleeping Project", "no PPSR status"),  # `dormant` is no PPSR status
        ("Status Unknown Survey", "no PPSR status"),  # `unknown` is a placeholder: no status
        ("Undated Beetle Hunt", "no start date"),
    ]


def test_provenance_and_our_fields_live_beside_the_projects(exported):
    _, path, _ = exported
    document = json.loads(path.read_text(encoding="utf-8"))
    assert set(document["provenance"]) == {p["projectId"] for p in document["Project"]}
    tubes = document["provenance"][by_name(document)["Air Quality Tubes"]["projectId"]]
    assert tubes["sources"] == [{"sourceSystem": "ppsr_inventory", "sourceRecordId": "p2", "matchRule": "single"}]
    assert tubes["countries"] == ["BE"] and tubes["topics"] == ["Health & Medicine"]


def test_the_command_prints_the_summary(exported, cstrack, tmp_path):
    env, _, _ = exported
    done = cstrack("export", "ppsr", "--out", str(tmp_path / "out.json"), env=env, check=True)
    assert (
        "exported 5 projects, left out 3 (2: no PPSR status (the source gives none or one that ppsr_status_alias"
        " does not know); 1: no start date), 2 warnings (projectUrl 1, projectEndDate 1)" in done.stdout
    )
    assert not list(export.validator().iter_errors(json.loads((tmp_path / "out.json").read_text())))


# --- without a database ---------------------------------------------------------------------------------
@pytest.mark.fast
def test_formats_are_really_checked():
    """jsonschema's own date-time and uri checks need packages we do not install, and Draft 7 knows no
    duration: the export's checker must refuse what the official schema means to refuse."""
    checker = export.format_checker()
    assert checker.conforms("1736-03-21T00:00:00+00:00", "date-time")
    for bad in ("1736", "2021-02-30T00:00:00Z", "2021-01-01T25:00:00Z", "2021-01-01T00:00:00", "Unknown"):
        assert not checker.conforms(bad, "date-time"), bad
    assert checker.conforms("https://www.example.org/a%20b?x=1#top", "uri")
    for bad in ("www.example.org", "https://example.org/a b", "https://example.org/100%", "/relative"):
        assert not checker.conforms(bad, "uri"), bad
    for good in ("P5Y", "P1Y2M3DT4H5M6S", "PT0.5S", "P2W", "P0Y0M0DT0H0M0S"):
        assert checker.conforms(good, "duration"), good
    for bad in ("P", "PT", "5Y", "Unknown", "P1YT"):
        assert not checker.conforms(bad, "duration"), bad


@pytest.mark.fast
def test_parse_url_and_the_export_make_addresses_absolute():
    assert parse_url("www.example.org") == "https://www.example.org"
    assert export.absolute_url("www.example.org") == "https://www.example.org"
    assert export.absolute_url("example.org/Über uns") == "https://example.org/%C3%9Cber%20uns"
    assert export.absolute_url("see our facebook page") is None


@pytest.mark.fast
def test_every_topic_has_a_science_type_of_the_schema():
    with (PROJECT / "dbt" / "seeds" / "topic.csv").open(encoding="utf-8") as handle:
        topics = {row["topic"] for row in csv.DictReader(handle)}
    enum = json.loads(export.SCHEMA_PATH.read_text())["properties"]["Project"]["items"]["properties"][
        "projectScienceType"
    ]["enum"]
    assert set(export.science_types()) == topics
    assert set(export.science_types().values()) <= set(enum)


@pytest.mark.fast
def test_the_schema_encodes_the_official_rules():
    schema = json.loads(export.SCHEMA_PATH.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#" and "ppsr-core" in schema["$comment"]
    items = schema["properties"]["Project"]["items"]
    assert items["additionalProperties"] is False and len(items["properties"]["projectScienceType"]["enum"]) == 110
    assert items["properties"]["projectStatus"]["enum"] == [
        "Not yet started",
        "Active",
        "Periodically active",
        "On hold",
        "Completed",
        "Abandoned",
    ]
    assert set(export.STATUS.values()) == set(items["properties"]["projectStatus"]["enum"])
    valid = {"projectEndDate": "2019-12-31T23:59:59+00:00", "projectDuration": "P5Y"}
    check = export.validator(items)
    base = {k: "" for k in items["required"]} | {
        "projectStatus": "Active",
        "projectScienceType": "Statistics",
        "projectStartDate": "2014-12-31T23:59:59+00:00",
        "projectDateCreated": "2020-01-01T00:00:00Z",
        "projectLastUpdatedDate": "2020-01-01T00:00:00Z",
        "projectGeographicLocation": {},
        "projectDuration": "Unknown",
    }
    assert not list(check.iter_errors(base))  # no end date: duration Unknown
    assert not list(check.iter_errors(base | valid))
    assert list(check.iter_errors(base | {"projectEndDate": "Unknown", "projectDuration": "P5Y"}))
    assert list(check.iter_errors(base | {"projectEndDate": "2019", "projectDuration": "P5Y"}))
    assert list(check.iter_errors(base | {"countries": ["BE"]}))  # no extra attribute
    assert list(check.iter_errors({k: v for k, v in base.items() if k != "projectMedia"}))
