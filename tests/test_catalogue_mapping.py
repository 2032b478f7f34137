"""The catalogue mapping contract: rules, placeholders, unmapped values, and errors before loading."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest

from cstrack.errors import MappingError
from cstrack.ingest.catalogue import Mapping, RowMapper, load_catalogue, open_reader
from cstrack.ingest.parsing import parse_country, parse_date, parse_url

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "catalogues"
MAPPINGS = Path(__file__).resolve().parents[1] / "catalogues"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rows_of(mapping_path: Path, data_path: Path):
    mapping = Mapping.load(mapping_path)
    mapper = RowMapper(mapping)
    return [mapper.apply(row) for _, row in open_reader(mapping, data_path).rows()], mapper


def test_rules_map_split_parse_pii_and_placeholders(tmp_path):
    mapping = write(
        tmp_path,
        "demo.yml",
        """\
        source: demo
        format: csv
        id: UID
        fields:
          title: name
          status: {column: status, map: {ongoing: active, "Ended ": completed, unknown: null}}
          start_date: {column: start, parse: date}
          countries: {column: country, split: ",", parse: country}
          topics: {columns: [main, extra], split: ";"}
          sdgs: {columns_matching: "^SDG (\\\\d+)$", values: {"2": direct, "1": indirect, "0": null}}
          contact: {column: email, pii: true}
          language: {value: nl}
        """,
    )
    data = write(
        tmp_path,
        "demo.csv",
        """\
        UID,name,status,start,country,main,extra,SDG 3,SDG 13,email
        a1,Birds,  ONGOING ,2019,"The Netherlands, Belgium",Ecology;Birds,n/a,2,1,x@example.org
        a2,Bees,hiatus,2021-02-03,Netherlands (the),-,,0,,
        a3,Clouds,ended,not a date,Atlantis,,,,,
        """,
    )
    (rec1, pii1), (rec2, _), (rec3, _) = rows_of(mapping, data)[0]
    assert rec1["status"] == "active"  # case and surrounding whitespace do not matter
    assert rec1["start_date"] == "2019"
    assert rec1["countries"] == ["NL", "BE"]
    assert rec1["topics"] == ["Ecology", "Birds"]  # `n/a` is a placeholder, not a topic
    assert rec1["sdgs"] == [{"tag": "3", "value": "direct"}, {"tag": "13", "value": "indirect"}]
    assert rec1["language"] == "nl"
    assert "contact" not in rec1 and pii1 == {"contact": "x@example.org"}
    assert rec2["status"] == "hiatus"  # kept: the map does not cover it ...
    assert rec2["start_date"] == "2021-02-03" and rec2["countries"] == ["NL"] and rec2["topics"] == []
    assert rec2["sdgs"] == []
    assert rec3["status"] == "completed" and rec3["start_date"] is None and rec3["countries"] == []
    _, mapper = rows_of(mapping, data)
    assert mapper.unmapped[("status", "hiatus")] == 1  # ... and counted for analysts
    assert mapper.unmapped[("start_date", "not a date")] == 1
    assert mapper.unmapped[("countries", "Atlantis")] == 1


def test_real_catalogues_map_every_row():
    for source in ("citizenscience_gov", "awesome_cs_nl"):
        records, _ = rows_of(MAPPINGS / f"{source}.yml", SAMPLE / f"{source}.csv")
        assert len(records) == {"citizenscience_gov": 409, "awesome_cs_nl": 231}[source]
        assert all(rec["title"] for rec, _ in records)
        if source == "citizenscience_gov":  # contact columns are personal data: never in the record
            assert all("contact" not in rec and pii.get("contact") for rec, pii in records[:50])


@pytest.mark.parametrize(
    "fields, message",
    [
        ("title: nope", "field 'title': column 'nope' not found in"),
        ("title: name\n  budget: amount", "field 'budget' is not a canonical field"),
        ("title: {column: name, parse: roman}", "parse 'roman' is not one of"),
        ("title: name\n  sdgs: {columns_matching: '^SDG'}", "matches no column"),
    ],
)
def test_invalid_mapping_fails_before_loading(tmp_path, fields, message):
    mapping = write(tmp_path, "bad.yml", f"source: bad\nformat: csv\nfields:\n  {fields}\n")
    data = write(tmp_path, "bad.csv", "name\nx\n")
    with pytest.raises(MappingError) as err:
        open_reader(Mapping.load(mapping), data)
    assert message in str(err.value) and str(mapping) in str(err.value)
    assert "\n" not in str(err.value)


def test_parsers():
    assert parse_date("2016-05-20 00:00:00") == "2016-05-20"
    assert parse_date("03/02/2021") == "2021-02-03"
    with pytest.raises(ValueError):
        parse_date("2021-02-30")
    assert parse_country("UK") == "GB" and parse_country("Netherlands (the)") == "NL"
    assert parse_country("DEU") == "DE" and parse_country("World wide") == "global"
    assert parse_url("www.Example.org/x") == "https://www.example.org/x"


def test_load_is_idempotent_and_reconciles(server_db, query, tmp_path):
    mapping, data = MAPPINGS / "awesome_cs_nl.yml", SAMPLE / "awesome_cs_nl.csv"
    first = load_catalogue(mapping, data, server_db)
    again = load_catalogue(mapping, data, server_db)
    assert (first.rows_read, first.rows_loaded, first.rows_quarantined) == (231, 231, 0)
    assert again.skipped and again.load_id == first.load_id
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == 231
    # a changed export loads again; rows without a title go to quarantine with their row number
    changed = write(tmp_path, "awesome_cs_nl.csv", data.read_text(encoding="utf-8").replace("Ja -  ik wil!", "", 1))
    third = load_catalogue(mapping, changed, server_db)
    assert (third.rows_read, third.rows_loaded, third.rows_quarantined) == (231, 230, 1)
    assert query(server_db, "select source_row, reason from ops.quarantine") == [(2, "title is empty")]
    runs = query(
        server_db, "select rows_read, rows_loaded + rows_quarantined from ops.load_run where status = 'succeeded'"
    )
    assert all(read == total for read, total in runs)


def test_missing_column_cli_error_names_mapping_field_column(server_db, query, cstrack, tmp_path):
    mapping = write(
        tmp_path,
        "broken.yml",
        """\
        source: broken
        format: csv
        fields:
          title: name
          url: {column: website, parse: url}
        """,
    )
    done = cstrack("load", "catalogue", str(mapping), str(SAMPLE / "awesome_cs_nl.csv"))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(mapping) in lines[0] and "field 'url'" in lines[0] and "column 'website'" in lines[0]
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == 0


def test_duplicate_ids_are_quarantined_by_the_database(server_db, query, tmp_path):
    """The second and later rows of an id go to quarantine naming the first row; a row quarantined for
    another reason is not a first occurrence; read = loaded + quarantined."""
    mapping = write(tmp_path, "dups.yml", "source: dups\nformat: csv\nid: UID\nfields:\n  title: name\n")
    data = write(
        tmp_path,
        "dups.csv",
        """\
        UID,name
        a,First a
        b,
        b,First loaded b
        a,Second a
        c,Only c
        a,Third a
        it's,Quote
        it's,Quote again
        """,
    )
    result = load_catalogue(mapping, data, server_db)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (8, 4, 4)
    assert query(
        server_db, "select source_record_id, _source_row, record->>'title' from raw.catalogue_record order by 2"
    ) == [("a", 1, "First a"), ("b", 3, "First loaded b"), ("c", 5, "Only c"), ("it's", 7, "Quote")]
    assert query(
        server_db, "select source_file, source_row, field, reason, raw_value from ops.quarantine order by 2"
    ) == [
        (str(data), 2, "title", "title is empty", None),
        (str(data), 4, "id", "duplicate id 'a' (first at row 1)", "a"),
        (str(data), 6, "id", "duplicate id 'a' (first at row 1)", "a"),
        (str(data), 8, "id", 'duplicate id "it\'s" (first at row 7)', "it's"),
    ]
    assert query(
        server_db,
        "select rows_read, rows_loaded, rows_quarantined from ops.load_run where load_id = %s",
        (result.load_id,),
    ) == [(8, 4, 4)]


def test_worker_processes_load_what_one_process_maps(server_db, query, tmp_path, monkeypatch):
    """A large CSV export is mapped by worker processes in batches: the same rows, quarantine and unmapped
    counts as mapping it here, row by row."""
    from cstrack.ingest import catalogue

    monkeypatch.setattr(catalogue, "BATCH_ROWS", 7)  # many batches from a small file (inherited by the fork)
    mapping_path = MAPPINGS / "citizenscience_gov.yml"
    with (SAMPLE / "citizenscience_gov.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    data = tmp_path / "citizenscience_gov.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows + rows[1:40])  # rows 1..39 again: their ids are duplicates
    result = load_catalogue(mapping_path, data, server_db, workers=2)

    mapping = Mapping.load(mapping_path)
    mapper = RowMapper(mapping)
    expected, first = {}, {}
    for number, row in open_reader(mapping, data).rows():
        record, pii = mapper.apply(row)
        if record.get("title") and row["cartodb_id"].strip() not in first:
            first[row["cartodb_id"].strip()] = number
            expected[number] = (row["cartodb_id"].strip(), record, pii or None, row)
    loaded = query(
        server_db, "select _source_row, source_record_id, record, pii, source_data from raw.catalogue_record"
    )
    assert {r[0]: tuple(r[1:]) for r in loaded} == expected
    assert (result.rows_read, result.rows_loaded) == (number, len(expected))
    assert result.rows_quarantined == number - len(expected) >= 39
    unmapped = dict(((f, v), n) for f, v, n in query(server_db, "select field, value, n from ops.unmapped_values"))
    assert unmapped == dict(mapper.unmapped)
