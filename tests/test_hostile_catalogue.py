"""Hostile and broken catalogue exports and mappings (issue 13): each ends in quarantine (read = loaded +
quarantined, the reason in ops.quarantine) or in one line `cstrack: error: ...` naming the file and the
row or key, never in a traceback, a silent merge or a value PostgreSQL cannot store.

Fixtures (written for these tests, shaped like real exports) are in tests/fixtures/hostile/catalogue/;
the large ones (a cell over 128 KiB, JSON nested 10^5 deep) are generated into tmp_path."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cstrack import specs
from cstrack.errors import MappingError
from cstrack.ingest import catalogue
from cstrack.ingest.catalogue import Mapping, RowMapper, load_catalogue, mapped_rows, open_reader
from cstrack.ingest.parsing import PARSERS
from cstrack.ingest.readers import MAX_CELL_CHARS, NUL_REMOVED

FIX = Path(__file__).resolve().parent / "fixtures" / "hostile" / "catalogue"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def refused(done, *names: str) -> str:
    """The command failed with one line `cstrack: error: ...` naming each of `names`, as an expected failure
    (not an unexpected exception turned into a line by the CLI's boundary)."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("cstrack: error: "), line
    assert not line.startswith("cstrack: error: unexpected ") and "(traceback:" not in line, line
    for name in names:
        assert name in line, (name, line)
    return line


@pytest.fixture(scope="module")
def refusals_db(module_db):
    """One database for the tests whose loads are all refused before anything is written."""
    return module_db


def last_load(wh, query) -> tuple[int, int, int, int]:
    """(load_id, read, loaded, quarantined) of the latest succeeded load; read = loaded + quarantined."""
    load_id, read, loaded, quarantined = query(
        wh, "select load_id, rows_read, rows_loaded, rows_quarantined from ops.load_run"
        " where status = 'succeeded' order by load_id desc limit 1")[0]  # fmt: skip
    assert read == loaded + quarantined
    return load_id, read, loaded, quarantined


def records(wh, query) -> dict[str, dict]:
    return dict(query(wh, "select source_record_id, record from raw.catalogue_record"))


def quarantine(wh, query, load_id) -> list[tuple]:
    return query(wh, "select source_row, reason from ops.quarantine where load_id = %s order by 1", (load_id,))


# --- CSV ------------------------------------------------------------------------------------------------


def test_ragged_export_loads_tidy_rows_and_quarantines_the_rest(server_db, query, cstrack):
    """Historic start years and a URL without scheme load; a row with missing or extra fields is quarantined
    with the counts; trailing empty fields are tolerated; a NUL byte is removed and counted."""
    done = cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(FIX / "inventory_ragged.csv"))
    assert done.returncode == 0, done.stderr
    load_id, read, loaded, quarantined = last_load(server_db, query)
    assert (read, loaded, quarantined) == (8, 6, 2)
    assert quarantine(server_db, query, load_id) == [
        (4, "line 5: 6 fields where the header has 9"),
        (5, "line 6: 11 fields where the header has 9"),
    ]
    got = records(server_db, query)
    assert sorted(got) == ["EI-001", "EI-002", "EI-003", "EI-006", "EI-007", "EI-008"]
    assert got["EI-001"]["start_date"] == "1736" and got["EI-002"]["start_date"] == "1762-01-01"
    assert got["EI-001"]["url"] == "https://www.example.org"  # parse: url gives an absolute URL
    assert got["EI-008"]["url"] == "https://luftdaten.example.de/map"
    assert got["EI-007"]["title"] == "Pollinator count"
    assert query(
        server_db,
        "select field, value, n from ops.unmapped_values where load_id = %s and value = %s",
        (load_id, NUL_REMOVED),
    ) == [("Project name", NUL_REMOVED, 1)]
    rows = query(server_db, "select record::text, pii->>'contact', source_data::text from raw.catalogue_record")
    assert not any(EMAIL.search(record) for record, _, _ in rows)  # contacts only in pii
    assert all(EMAIL.fullmatch(contact) for _, contact, _ in rows)
    assert not any("\\u0000" in data for _, _, data in rows)


def test_mixed_encoding_names_row_line_and_byte(server_db, query, cstrack):
    data = FIX / "inventory_mixed_encoding.csv"
    offset = data.read_bytes().index(b"\x96")
    refused(cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(data)),
            str(data), "row 2 (line 3", f"byte {offset})")  # fmt: skip
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == 0


@pytest.mark.parametrize("broken", ["inventory_unterminated_quote.csv", "inventory_stray_quote.csv"])
def test_an_unterminated_quote_is_refused_and_leaks_nothing(server_db, query, cstrack, tmp_path, broken):
    """The quote opened in row 2's title would swallow the following rows, their contact e-mails included,
    into one title: the file is refused naming that row; what was loaded before stays as it was."""
    text = (FIX / broken).read_text(encoding="utf-8")
    tidy = tmp_path / "inventory.csv"
    tidy.write_text(text.replace('"', ""), encoding="utf-8")
    cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(tidy), check=True)
    before = records(server_db, query)
    assert len(before) == 5

    refused(cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(FIX / broken)),
            str(FIX / broken), "row 2 (line 3)", "quote")  # fmt: skip
    assert records(server_db, query) == before
    assert query(server_db, "select status from ops.load_run order by load_id") == [("succeeded",), ("failed",)]
    for (record,) in query(server_db, "select record::text from raw.catalogue_record"):
        assert not EMAIL.search(record), record
    assert {title for (title,) in query(server_db, "select record->>'title' from raw.catalogue_record")} == {
        "Nature's Calendar", "Fungi recording network", "Garden bird watch", "River water quality",
        "Plastic beach survey"}  # fmt: skip


def test_a_stray_quote_closed_by_another_quarantines_the_merged_row(server_db, query, cstrack):
    """A quote opened in row 2 and one closing in row 3 make valid CSV with the right field count, whose title
    would hold row 2's contact e-mail: the row is quarantined (no raw value kept), the other rows load."""
    data = FIX / "inventory_two_stray_quotes.csv"
    done = cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(data))
    assert done.returncode == 0, done.stderr
    load_id, *counts = last_load(server_db, query)
    assert counts == [4, 3, 1]
    assert query(
        server_db, "select source_row, reason, raw_value from ops.quarantine where load_id = %s", (load_id,)
    ) == [(2, "line 3: a quoted cell runs over 2 lines that each read as a row of their own (a stray quote?)", None)]
    assert sorted(records(server_db, query)) == ["EI-001", "EI-004", "EI-005"]
    for (record,) in query(server_db, "select record::text from raw.catalogue_record"):
        assert not EMAIL.search(record), record


def test_a_duplicated_header_name_the_mapping_uses_is_refused(server_db, query, cstrack):
    mapping, data = FIX / "inventory.yml", FIX / "inventory_duplicated_header.csv"
    refused(cstrack("load", "catalogue", str(mapping), str(data)),
            str(mapping), "field 'title'", "'Project name'", "more than once", str(data))  # fmt: skip
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == 0
    # a duplicated name the mapping does not use is no reason to refuse the file
    cstrack("load", "catalogue", str(mapping), str(FIX / "inventory_unused_duplicate.csv"), check=True)
    assert last_load(server_db, query)[1:] == (2, 2, 0)


def test_a_cell_over_128_kib_quarantines_its_row(server_db, query, cstrack, tmp_path):
    header, *rows = (FIX / "inventory_ragged.csv").read_text(encoding="utf-8").splitlines()[:4]
    big = rows[1].replace("Map fungi across the country", "spores " * (MAX_CELL_CHARS // 7 + 10))
    data = tmp_path / "inventory.csv"
    data.write_text("\n".join([header, rows[0], big, rows[2]]) + "\n", encoding="utf-8")
    done = cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(data))
    assert done.returncode == 0, done.stderr
    load_id, *counts = last_load(server_db, query)
    assert counts == [3, 2, 1]
    assert quarantine(server_db, query, load_id) == [(2, "line 3: not valid CSV: a cell is over 128 KiB")]
    # quoted across lines, the reader cannot tell where such a cell ends: the file is refused, naming the row
    data.write_text("\n".join([header, rows[0], big.replace("spores ", '"spores\n', 1) + '"', rows[2]]) + "\n")
    refused(cstrack("load", "catalogue", str(FIX / "inventory.yml"), str(data)), str(data), "row 2 (line 3)")


def test_worker_processes_quarantine_each_row_once(server_db, query, tmp_path, monkeypatch):
    """The worker path (large files) quarantines the same rows and counts the same NUL bytes (the header's
    once) as one process."""
    monkeypatch.setattr(catalogue, "BATCH_ROWS", 3)  # many batches from a small file (inherited by the fork)
    header, *rows = (FIX / "inventory_ragged.csv").read_bytes().splitlines()
    body = [header.replace(b";Topics;", b";Top\x00ics;")]
    for copy in range(5):
        body += [row.replace(b"EI-", b"EI-%d-" % copy, 1) for row in rows]
    data = tmp_path / "inventory.csv"
    data.write_bytes(b"\n".join(body) + b"\n")
    outcomes = []
    for workers in (0, 2):
        mapping = tmp_path / f"inventory_{workers}.yml"
        mapping.write_text((FIX / "inventory.yml").read_text().replace("env_inventory", f"env_inventory_{workers}"))
        result = load_catalogue(mapping, data, server_db, workers=workers, progress=None)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (40, 30, 10)
        outcomes.append((
            quarantine(server_db, query, result.load_id),
            sorted(query(server_db, "select field, value, n from ops.unmapped_values where load_id = %s",
                         (result.load_id,))),
        ))  # fmt: skip
    assert outcomes[0] == outcomes[1]
    assert ("(header)", NUL_REMOVED, 1) in outcomes[0][1] and ("Project name", NUL_REMOVED, 5) in outcomes[0][1]


# --- JSON -----------------------------------------------------------------------------------------------


def test_json_nested_100000_deep_is_refused(server_db, query, cstrack, tmp_path):
    data = tmp_path / "inventory.json"
    data.write_text('{"data": {"projects": ' + "[" * 100_000 + "]" * 100_000 + "}}", encoding="utf-8")
    refused(cstrack("load", "catalogue", str(FIX / "inventory_json.yml"), str(data)), str(data), "nested too deeply")
    assert query(server_db, "select count(*) from raw.catalogue_record")[0][0] == 0


def test_json_record_with_a_value_over_128_kib_is_quarantined(server_db, query, cstrack, tmp_path):
    document = json.loads((FIX / "inventory.json").read_text(encoding="utf-8"))
    document["data"]["projects"].insert(1, {"projectId": "EI-009", "projectName": "Long story",
                                            "projectDescription": "once upon a time " * 10_000})  # fmt: skip
    document["data"]["projects"].append({"projectId": "EI-010", "projectName": "Half an emoji \ud83d here"})
    document["data"]["projects"].append({"projectId": "EI-011", "projectName": "Not a number", "n": float("nan")})
    document["data"]["projects"].append({"projectId": "EI-012", "projectName": "A whole emoji \U0001f41d"})
    data = tmp_path / "inventory.json"
    data.write_text(json.dumps(document), encoding="utf-8")
    done = cstrack("load", "catalogue", str(FIX / "inventory_json.yml"), str(data))
    assert done.returncode == 0, done.stderr
    load_id, *counts = last_load(server_db, query)
    assert counts == [6, 3, 3]
    assert quarantine(server_db, query, load_id) == [
        (2, "a value is over 128 KiB"),
        (4, "a string holds a lone UTF-16 surrogate (not a character)"),
        (5, "a number is NaN or infinity, which JSON cannot hold"),
    ]
    assert records(server_db, query)["EI-012"]["title"] == "A whole emoji \U0001f41d"
    assert records(server_db, query)["EI-001"] == {"title": "Nature's Calendar", "url": "https://www.example.org",
                                                   "start_date": "1736"}  # fmt: skip


def test_json_lines_quarantine_a_broken_or_too_deep_line(server_db, query, cstrack, tmp_path):
    """In JSON lines every line is a record of its own: a line that is not valid JSON, or is nested too deeply
    to read, is quarantined with the reason; the others load (a NUL escape is removed and counted)."""
    data = tmp_path / "inventory.jsonl"
    shutil.copy(FIX / "inventory.jsonl", data)
    with data.open("a", encoding="utf-8") as out:
        out.write('{"projectId": "EI-005", "projectName": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    done = cstrack("load", "catalogue", str(FIX / "inventory_jsonl.yml"), str(data))
    assert done.returncode == 0, done.stderr
    load_id, *counts = last_load(server_db, query)
    assert counts == [5, 3, 2]
    reasons = quarantine(server_db, query, load_id)
    assert [row for row, _ in reasons] == [3, 5]
    assert reasons[0][1].startswith("line 3: not valid JSON at line 1, column")
    assert reasons[1][1] == "line 5: JSON nested too deeply to read"
    got = records(server_db, query)
    assert got["EI-004"]["title"] == "River water quality" and got["EI-001"]["url"] == "https://www.example.org"
    assert query(
        server_db, "select field, n from ops.unmapped_values where load_id = %s and value = %s", (load_id, NUL_REMOVED)
    ) == [("projectName", 1)]
    # bytes that are not UTF-8 refuse the file, naming the line and the byte
    data.write_bytes((FIX / "inventory.jsonl").read_bytes().replace(b"Fungi", b"Fung\xef", 1))
    offset = data.read_bytes().index(b"\xef")
    refused(cstrack("load", "catalogue", str(FIX / "inventory_jsonl.yml"), str(data)),
            str(data), "line 2", f"byte {offset}")  # fmt: skip


# --- XLSX -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workbook", ["inventory_truncated.xlsx", "inventory_renamed.xlsx"])
def test_a_file_that_is_not_a_workbook_is_refused(refusals_db, query, cstrack, workbook):
    wh, env = refusals_db
    data = FIX / workbook
    done = cstrack("load", "catalogue", str(FIX / "inventory_xlsx.yml"), str(data), env=env)
    refused(done, str(data), "not a readable XLSX")
    assert query(wh, "select count(*) from ops.load_run")[0][0] == 0


def test_a_missing_sheet_is_refused_and_the_right_one_loads(server_db, query, cstrack, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Projects"
    sheet.append(["ProjectID", "Project name", "Website", "Status", "Start date", "Contact e-mail"])
    sheet.append(["EI-001", "Nature's Calendar", "www.example.org", "ongoing", "1736", "calendar@example.org"])
    sheet.append(["EI-002", "Fungi network", "https://fungi.example.net", "ongoing", 1762, "fungi@example.net"])
    sheet.append(["EI-003", "Stray value", None, None, None, None, None, "beyond the header"])
    data = tmp_path / "inventory.xlsx"
    book.save(data)
    mapping = FIX / "inventory_missing_sheet.yml"
    refused(cstrack("load", "catalogue", str(mapping), str(data)), str(mapping), "'Projekte 2020'", "not found")
    done = cstrack("load", "catalogue", str(FIX / "inventory_xlsx.yml"), str(data))
    assert done.returncode == 0, done.stderr
    load_id, *counts = last_load(server_db, query)
    assert counts == [3, 2, 1]
    assert quarantine(server_db, query, load_id) == [(3, "a value beyond the header's 6 columns")]
    got = records(server_db, query)
    assert got["EI-001"]["url"] == "https://www.example.org" and got["EI-002"]["start_date"] == "1762"


# --- mappings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mapping, data, why",
    [
        ("wrong_csv_type.yml", "inventory_ragged.csv", "csv: 'semicolon' is not of type 'object', 'null'"),
        ("wrong_parse_type.yml", "inventory_ragged.csv", "fields.url.parse: ['url'] is not one of ['date'"),
        ("wrong_split_type.yml", "inventory_ragged.csv", "fields.topics.split: 5 is not of type 'string'"),
        ("unknown_encoding.yml", "inventory_ragged.csv", "csv.encoding: unknown encoding 'utf-9'"),
        ("wrong_sheet_type.yml", "inventory_truncated.xlsx", "sheet: [1] is not of type 'integer', 'string'"),
        ("yaml_bomb.yml", "inventory_ragged.csv", "aliases"),
    ],
)
def test_a_mapping_with_a_wrong_type_is_one_line_naming_the_key(refusals_db, query, cstrack, mapping, data, why):
    wh, env = refusals_db
    line = refused(cstrack("load", "catalogue", str(FIX / mapping), str(FIX / data), env=env), why)
    assert line.startswith(f"cstrack: error: {FIX / mapping}: ")
    assert query(wh, "select count(*) from ops.load_run")[0][0] == 0
    started = time.monotonic()
    with pytest.raises(MappingError, match=re.escape(why)):
        Mapping.load(FIX / mapping)
    assert time.monotonic() - started < 1  # a YAML bomb is refused at once, not expanded


@pytest.mark.parametrize(
    "rule, why",
    [
        ("title: {column: name, split: ''}", "fields.title.split: '' should be non-empty"),
        ("title: {column: name, pii: 'yes'}", "fields.title.pii: 'yes' is not of type 'boolean'"),
        ("title: {value: 2021-01-01}", "fields.title.value: datetime.date(2021, 1, 1) is not of type"),
        ("title: {value: .nan}", "fields.title.value: NaN and infinity are not JSON values"),
        ("title: [name]", "fields.title: ['name'] is not of type 'string', 'object'"),
        ("title: {column: name, map: [a, b]}", "fields.title.map: ['a', 'b'] is not of type 'object'"),
    ],
)
def test_other_wrong_types_name_their_key(tmp_path, rule, why):
    path = tmp_path / "bad.yml"
    path.write_text(f"source: bad\nformat: csv\ncsv: {{encoding: base64}}\nfields:\n  {rule}\n", encoding="utf-8")
    with pytest.raises(MappingError) as err:
        Mapping.load(path)
    assert str(err.value).startswith(f"{path}: ") and why in str(err.value), str(err.value)
    path.write_text("source: bad\nformat: csv\ncsv: {encoding: base64}\nfields:\n  title: name\n", encoding="utf-8")
    with pytest.raises(MappingError, match="csv.encoding: 'base64' is not a text encoding"):
        Mapping.load(path)


def test_the_schema_knows_every_parser_and_every_bundled_mapping_is_valid():
    schema = json.loads((specs.SCHEMAS_DIR / "catalogue_mapping.schema.json").read_text(encoding="utf-8"))
    assert schema["$defs"]["rule"]["properties"]["parse"]["enum"] == list(PARSERS)
    assert set(schema["properties"]) == catalogue.TOP_LEVEL
    bundled = Path(__file__).resolve().parents[1] / "catalogues"
    for path in sorted(bundled.glob("*.yml")) + sorted(FIX.glob("inventory*.yml")):
        if path.name != "platforms.yml":
            Mapping.load(path)


# --- properties: any bytes are rows, quarantined rows or one MappingError ----------------------------------

MAPPING = Mapping.load(FIX / "inventory.yml")
HEADER = (FIX / "inventory_ragged.csv").read_bytes().splitlines(keepends=True)[0]
FRAGMENTS = [b";", b'"', b"\n", b"\r\n", b"\x00", "é".encode(), b"a@example.org", b"2021-02-30", b"1736", b"EI-1",
             b"www.example.org", b"ongoing", b"n/a", b" ", b'""', b"\xef\xbb\xbf", b"x" * 200]  # fmt: skip


def outcome(body: bytes, no_merged_contacts: bool = False) -> list[tuple]:
    """The loader's rows for `body` under the inventory mapping, checked; [] after a MappingError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(body)
        try:
            reader = open_reader(MAPPING, path)
            items = list(mapped_rows(MAPPING, reader, RowMapper(MAPPING)))
        except MappingError as err:
            assert str(path) in str(err) and "\n" not in str(err)
            return []
    numbers = [item[0] for item in items]
    assert numbers == sorted(set(numbers))  # each row once, in file order
    for _number, values, reason, _, _raw_value in items:
        if values is None:
            assert isinstance(reason, str) and reason
            continue
        _, _, record, pii, source_data = values
        for blob in (record, pii or b"null", source_data):
            assert "\x00" not in json.dumps(json.loads(blob), ensure_ascii=False)  # PostgreSQL cannot store it
        if no_merged_contacts:  # each row has its own contact e-mail: two in one record are merged rows
            assert len(set(EMAIL.findall(record.decode() + (pii or b"").decode()))) <= 1, (record, pii)
        assert set(json.loads(source_data)) == set(reader.columns)  # no cell beyond the header (no "null" key)
    return items


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=60),
    st.none() | st.tuples(st.integers(0), st.binary(min_size=1, max_size=3)),
)
def test_any_bytes_are_rows_quarantine_or_one_error(fragments, noise):
    """Fragments of CSV (delimiters, quotes, line breaks, NUL bytes, long cells), sometimes with a few random
    bytes inserted (a byte that is not UTF-8 refuses the file)."""
    body = b"".join(fragments)
    if noise is not None:
        at = noise[0] % (len(body) + 1)
        body = body[:at] + noise[1] + body[at:]
    outcome(HEADER + body)


cells = st.one_of(
    st.text(st.characters(blacklist_characters="@"), max_size=12),
    st.sampled_from(["", "1762", 'say "hi"', '"quoted"', "x;y", ";x", "l1\nl2", "\nx", "\x00"]),
)


def written(rows: list[list[str]], stray: int | None = None) -> str:
    """`rows` as an inventory export (id, 7 cells, contact e-mail, extra cells); `stray`: the cell (counted over
    the rows' first 7 cells) opened by a quote that is never closed there, as a stray quote in an export."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    for n, row in enumerate(rows):
        cells = [f"EI-{n}", *row[:7], f"c{n}@example.org", *row[7:]]
        if stray is not None and stray // 7 == n:
            cells[1 + stray % 7] = "\x01"
        writer.writerow(cells)
    if stray is not None:
        n = stray // 7
        text = re.sub(r'["\r\n]', "", rows[n][stray % 7])
        return out.getvalue().replace("\x01", '"' + text, 1)
    return out.getvalue()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=7, max_size=11), max_size=6), st.integers(0, 400))
def test_written_csv_with_one_quote_dropped_is_rows_quarantine_or_one_error(rows, cut):
    text = written(rows)
    if '"' in text:
        at = [i for i, ch in enumerate(text) if ch == '"'][cut % text.count('"')]
        text = text[:at] + text[at + 1 :]
    outcome(HEADER + text.encode("utf-8", "surrogatepass"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=7, max_size=11), min_size=1, max_size=6), st.integers(0))
# found by this test: the quote that closes the stray one opens a quoted cell holding the delimiter (the cells
# after it shift by one), and the same with a trailing empty cell after the contact
@example(rows=[[""] * 7, ["", ";0", "", "", "", "", ""]], stray=0)
@example(rows=[[""] * 8, ["", ";0", "", "", "", "", ""]], stray=0)
def test_an_unterminated_quote_never_merges_rows(rows, stray):
    """A quote opened in any cell and never closed there: the rows it would swallow (their contact e-mails
    included) are refused or quarantined, never merged into the record of another row. (Within its own row a
    stray quote may shift the cells after it by one column, as any malformed row can: a reader cannot tell.)"""
    outcome(HEADER + written(rows, stray % (7 * len(rows))).encode("utf-8", "surrogatepass"), no_merged_contacts=True)


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=20),
       st.integers(0, 3000), st.sampled_from(["json", "jsonl"]))  # fmt: skip
def test_any_json_is_records_quarantine_or_one_error(value, depth, fmt):
    nested = "[" * depth + json.dumps(value) + "]" * depth
    with tempfile.TemporaryDirectory() as folder:
        mapping_path = Path(folder) / "m.yml"
        mapping_path.write_text(f"source: anyjson\nformat: {fmt}\nfields:\n  title: projectName\n", encoding="utf-8")
        mapping = Mapping.load(mapping_path)
        path = Path(folder) / f"export.{fmt}"
        record = '{"projectName": "x", "v": ' + nested + "}"
        path.write_text(f"[{record}]" if fmt == "json" else record + "\n" + nested + "\n", encoding="utf-8")
        try:
            items = list(mapped_rows(mapping, open_reader(mapping, path), RowMapper(mapping)))
        except MappingError as err:
            assert str(path) in str(err) and "\n" not in str(err)
            return
        for _, values, reason, _, _ in items:
            assert values is not None or reason
