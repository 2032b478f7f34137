"""Real-shaped and hostile survey inputs (issue #13, items 3 and 6) through the real CLI,
`cstrack load survey CODEBOOK FILE`: each export either loads with answer cells read = loaded +
quarantined (ops.load_run) and the reason of every refused cell in ops.quarantine, or ends in exactly
one line `cstrack: error: ...` naming the file and the row (or the codebook and the key), no traceback.

Fixtures (tests/fixtures/hostile/survey, written for these tests by make_fixtures.py there): DESIGN.md
§6.3's example codebook verbatim with a workbook for it; a German and an English version of one
LimeSurvey-style questionnaire (long question headers, open age, education and occupation answers a
few of which are rare); broken variants of the German export (field counts, an unterminated quote, NUL
bytes, mixed encodings, a duplicated header, Windows-1252 with semicolons), a corrupt and a renamed
workbook, and a YAML bomb. Codebooks with a wrong type are made here from the German one. Plus one
publish: open answers held by fewer than 5 respondents of a survey and wave reach marts only as
`other`. And a property test of the CSV reader on random cells.
"""

from __future__ import annotations

import csv
import io
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstrack import warehouse
from cstrack.errors import MappingError
from cstrack.ingest.readers import MAX_CELL_CHARS, NUL_REMOVED
from cstrack.ingest.survey import Codebook, CsvReader
from cstrack.publish import marts

FIXTURES = Path(__file__).parent / "fixtures" / "hostile" / "survey"
DE = FIXTURES / "umfrage_2021_de.yml"
ITEMS = 4  # answer cells per row of the umfrage codebooks

# open answers held by fewer than 5 respondents of umfrage 2021 (both language versions together)
RARE_EDUCATION = {
    "Promotion", "PhD", "Secondary school", "Meisterbrief im elterlichen Tischlereibetrieb in Kleinkleckersdorf",
    "Ausbildung zur Hebamme am Klinikum Nord", "Self-taught beekeeper from Upper Wopping",
}  # fmt: skip
RARE_OCCUPATION = {"Tischlermeisterin im Ruhestand", "Hebamme", "Ingenieur", "Studentin", "Lehrer"}  # 1, 1, 2, 2, 1
RARE_AGE = {"72", "17", "23", "67", "sechzig plus"}


def run_cstrack(*args: str, env: dict, limit_memory: bool = False) -> subprocess.CompletedProcess:
    """The real `cstrack` command, as a user runs it (with a 2 GiB address-space cap when asked: a YAML
    bomb that slipped through must fail the test, not the machine)."""
    exe = Path(sys.executable).parent / "cstrack"

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [str(exe), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
        preexec_fn=cap if limit_memory else None,
    )  # fmt: skip


def one_line_error(done: subprocess.CompletedProcess, *parts: str) -> str:
    """The run failed with exactly one line `cstrack: error: ...` holding every part, and no traceback."""
    assert done.returncode != 0, done.stdout
    assert done.stderr.startswith("cstrack: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and "traceback" not in done.stderr
    assert not re.search(r"unexpected [A-Z]", done.stderr), done.stderr  # the CLI's words for a bug
    for part in parts:
        assert part in done.stderr, (part, done.stderr)
    return done.stderr


@pytest.fixture(scope="module")
def db(module_db):
    """One database for the module's CLI loads (each file is its own load); the env the CLI runs with."""
    wh, env = module_db
    return wh, {**env, "CSTRACK_PSEUDONYM_KEY": "hostile-survey"}


def rows(wh, sql: str, params=()) -> list[tuple]:
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


def load(db, codebook: Path, data: Path, **kw) -> subprocess.CompletedProcess:
    return run_cstrack("load", "survey", str(codebook), str(data), env=db[1], **kw)


def loaded(db, codebook: Path, data: Path, read: int, quarantined: int) -> int:
    """Load through the CLI; the counts reconcile in the summary, ops.load_run and the tables. The load id."""
    done = load(db, codebook, data)
    assert done.returncode == 0, done.stderr
    assert f"read {read}, loaded {read - quarantined}, quarantined {quarantined}" in done.stdout, done.stdout
    load_id = int(done.stdout.rsplit("(load ", 1)[1].split(")")[0])
    assert rows(
        db[0],
        "select rows_read, rows_loaded, rows_quarantined,"
        " (select count(*) from raw.survey_answer where _load_id = l.load_id),"
        " (select count(*) from ops.quarantine where load_id = l.load_id)"
        " from ops.load_run l where load_id = %s",
        (load_id,),
    ) == [(read, read - quarantined, quarantined, read - quarantined, quarantined)]
    return load_id


def variant(tmp_path: Path, name: str, old: str, new: str, base: Path = DE) -> Path:
    """A copy of a fixture codebook with one edit (the file keeps a lower_snake_case name)."""
    text = base.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / f"{name}.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- real-shaped exports load --------------------------------------------------------------------------


def test_design_example_codebook_loads_as_written(db):
    """DESIGN.md §6.3's codebook, byte for byte, with `age_band: {column: Age}` and no map."""
    design = Path(__file__).resolve().parents[2] / "shared" / "DESIGN.md"
    if design.is_file():  # the fixture is the example as the contract shows it
        assert (FIXTURES / "participants_2021.yml").read_text(encoding="utf-8") in design.read_text(encoding="utf-8")
    book = Codebook.load(FIXTURES / "participants_2021.yml")
    assert [(a.name, a.open) for a in book.attributes if a.ref] == [("gender", False), ("age_band", True)]
    # 15 rows x 2 items; one row without consent: its 2 cells are quarantined
    load_id = loaded(db, FIXTURES / "participants_2021.yml", FIXTURES / "participants_2021.xlsx", 30, 2)
    stored = rows(
        db[0],
        "select attributes, attributes_open, age_band from"
        " raw.survey_respondent where _load_id = %s order by _source_row",
        (load_id,),
    )
    assert len(stored) == 14
    assert stored[0] == (
        {"project": "ViennaCityFly", "country": "AT", "language": "de", "gender": "female"},
        {"age_band": "30-39"},
        None,  # an open answer never goes to the classic column: only dbt's categories do
    )
    assert [o["age_band"] for _, o, _ in stored].count("sechzig plus") == 1


def test_german_and_english_versions_and_excel_export_load(db):
    de = loaded(db, DE, FIXTURES / "umfrage_2021_de.csv", 20 * ITEMS, ITEMS)  # 1007 refused consent
    loaded(db, FIXTURES / "umfrage_2021_en.yml", FIXTURES / "umfrage_2021_en.csv", 8 * ITEMS, 0)
    excel = loaded(
        db, FIXTURES / "umfrage_2021_de_excel.yml", FIXTURES / "umfrage_2021_de_excel.csv", 20 * ITEMS, ITEMS
    )
    same = (
        "select respondent_key, gender, attributes, attributes_open from raw.survey_respondent"
        " where _load_id = %s order by _source_row"
    )
    assert rows(db[0], same, (de,)) == rows(db[0], same, (excel,))  # Windows-1252 and semicolons read alike
    opened = [o for (o,) in rows(db[0], "select attributes_open from raw.survey_respondent where _load_id = %s", (de,))]
    assert {"age_band": "35-44", "education": "Bachelor", "occupation": "Rentner"} in opened  # "  Bachelor " collapsed
    assert {"age_band": None, "education": None, "occupation": None} in opened  # 1016 left them empty
    # an open answer is kept as given, "keine Angabe" too (it becomes 'other' in marts unless 5 give it)
    assert {"age_band": "keine Angabe", "education": "keine Angabe", "occupation": "keine Angabe"} in opened


# --- broken exports: quarantined with the reason, or one line -------------------------------------------


def test_rows_with_more_or_fewer_fields_than_the_header_are_quarantined_with_the_counts(db):
    load_id = loaded(db, DE, FIXTURES / "umfrage_2021_de_field_counts.csv", 20 * ITEMS, 3 * ITEMS)
    reasons = rows(
        db[0],
        "select source_row, field, reason from ops.quarantine where load_id = %s order by source_row, field",
        (load_id,),
    )
    by_row = {}
    for row, field, reason in reasons:
        by_row.setdefault(row, set()).add(reason)
        assert field in {"MOT01", "MOT02", "MOT03", "MOT04"}
    assert by_row[3] == {"line 4: 13 fields where the header has 12"}
    assert by_row[6] == {"line 7: 10 fields where the header has 12"}
    assert next(iter(by_row[7])).startswith("no consent")  # 1007
    assert set(by_row) == {3, 6, 7}  # row 8's extra empty field (a spreadsheet's delimiter) is not a mismatch
    assert "verrutscht" not in str(rows(db[0], "select attributes, attributes_open from raw.survey_respondent"))


def test_unterminated_quote_is_refused_naming_the_row_and_nothing_loads(db):
    data = FIXTURES / "umfrage_2021_de_unterminated_quote.csv"
    before = rows(db[0], "select count(*) from raw.survey_answer")
    one_line_error(load(db, DE, data), str(data), "row 4 (line 5)", "never closed")
    assert rows(db[0], "select count(*) from raw.survey_answer") == before
    assert rows(db[0], "select count(*) from raw.survey_free_text where answer like '%%0170%%'") == [(0,)]
    assert rows(db[0], "select status from ops.load_run where source_file = %s", (str(data),)) == [("failed",)]


def test_nul_bytes_are_removed_and_recorded(db):
    load_id = loaded(db, DE, FIXTURES / "umfrage_2021_de_nul.csv", 20 * ITEMS, ITEMS)
    assert rows(
        db[0],
        "select value from raw.survey_answer where _load_id = %s and _source_row = 3 and item = 'MOT01'",
        (load_id,),
    ) == [(3,)]
    assert rows(
        db[0], "select answer from raw.survey_free_text where _load_id = %s and answer like 'Tolle%%'", (load_id,)
    ) == [("Tolle Aktion!",)]
    recorded = rows(
        db[0], "select field, n from ops.unmapped_values where load_id = %s and value = %s", (load_id, NUL_REMOVED)
    )
    assert sorted(recorded) == [
        ("Warum machen Sie bei Citizen Science mit? [Mich interessiert das Thema.]", 1),
        ("Wollen Sie uns sonst noch etwas mitteilen? (optional)", 1),
    ]


def test_a_byte_of_another_encoding_is_refused_naming_row_line_and_byte(db):
    data = FIXTURES / "umfrage_2021_de_mixed_encoding.csv"
    offset = data.read_bytes().index("M\xe4nnlich".encode("cp1252")) + 1
    one_line_error(load(db, DE, data), str(data), f"row 6 (line 7, byte {offset})", "not valid utf-8-sig")


def test_a_duplicated_header_the_codebook_reads_is_refused(db, tmp_path):
    data = FIXTURES / "umfrage_2021_de_duplicated_header.csv"
    one_line_error(
        load(db, DE, data),
        str(DE),
        "attribute 'age_band'",
        "'Wie alt sind Sie?",
        "appears 2 times in the header",
        str(data),
    )
    # a duplicated column the codebook does not read is harmless
    unread = variant(tmp_path, "umfrage_2021_de", '  age_band: {column_prefix: "Wie alt sind Sie?"}\n', "")
    unread.write_text(unread.read_text(encoding="utf-8").replace('  occupation: {column_prefix: "Beruf:"}\n', ""))
    loaded(db, unread, data, 20 * ITEMS, ITEMS)


def test_an_oversized_cell_quarantines_its_row(db, tmp_path):
    lines = (FIXTURES / "umfrage_2021_de.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[2].endswith(',"Tolle Aktion!"')
    lines[2] = lines[2].replace('"Tolle Aktion!"', '"' + "sehr lang " * (MAX_CELL_CHARS // 9) + '"')
    data = tmp_path / "umfrage_2021_de_oversized.csv"
    data.write_text("\r\n".join(lines), encoding="utf-8")
    load_id = loaded(db, DE, data, 20 * ITEMS, 2 * ITEMS)
    reasons = {
        r for (r,) in rows(db[0], "select reason from ops.quarantine where load_id = %s and source_row = 2", (load_id,))
    }
    assert reasons == {"line 3: not valid CSV: a cell is over 128 KiB"}


def test_corrupt_renamed_and_sheetless_workbooks_are_refused(db, tmp_path):
    book = FIXTURES / "participants_2021.yml"
    for data in (FIXTURES / "corrupt.xlsx", FIXTURES / "renamed_csv.xlsx"):
        one_line_error(load(db, book, data), str(data), "not a readable XLSX workbook")
    sheetless = variant(tmp_path, "participants_2021", "sheet: 0", "sheet: Daten", base=book)
    one_line_error(load(db, sheetless, FIXTURES / "participants_2021.xlsx"), str(sheetless), "sheet 'Daten' not found")
    beyond = variant(tmp_path, "participants_2021", "sheet: 0", "sheet: 3", base=book)
    one_line_error(load(db, beyond, FIXTURES / "participants_2021.xlsx"), "sheet 3 not found", "'Antworten'")


# --- codebooks of the wrong type: one line naming the key ------------------------------------------------


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("missing: [99]", "missing: 99", "scales.agree5.missing: 99 is not of type 'array', 'null'"),
        ('csv: {delimiter: ",", encoding: utf-8-sig}', "csv: semicolon",
         "csv: 'semicolon' is not of type 'object', 'null'"),
        ("agree5: {min: 1,", 'agree5: {min: "one",', "scales.agree5.min: 'one' is not of type 'number'"),
        ("encoding: utf-8-sig", "encoding: latin-42", "csv.encoding: unknown encoding 'latin-42'"),
        ('delimiter: ","', 'delimiter: ";;"', "csv.delimiter: ';;' is too long"),
        ("reverse: true", 'reverse: "ja"', "items.MOT04.reverse: 'ja' is not of type 'boolean'"),
        ("min_share_answered: 0.5", "min_share_answered: half",
         "constructs.motivation.min_share_answered: 'half' is not of type 'number'"),
        ('education: {column_prefix: "Höchster', 'education: {parse: [url], column_prefix: "Höchster',
         "demographics.education.parse: ['url'] is not one of ['country', 'language']"),
        ('education: {column_prefix: "Höchster', 'education: {colum: x, column_prefix: "Höchster',
         "demographics.education: Additional properties are not allowed ('colum' was unexpected)"),
        ("respondent_id: Antwort ID", "respondent_id: 5", "respondent_id: 5 is not of type 'string', 'object', 'null'"),
        ("free_text:\n  - column_prefix", "free_text:\n  - column_prefix: 5\n    column",
         "free_text.0.column_prefix: 5 is not of type 'string'"),
        ("  education: {", "  Bildung: {", "demographics.Bildung: an attribute name is lower_snake_case"),
    ],
)  # fmt: skip
def test_a_codebook_of_the_wrong_type_is_one_line_naming_the_key(db, tmp_path, old, new, expected):
    book = variant(tmp_path, "umfrage_2021_de", old, new)
    one_line_error(load(db, book, FIXTURES / "umfrage_2021_de.csv"), f"{book}: {expected}")


def test_a_yaml_bomb_codebook_is_refused_in_under_a_second(db):
    bomb = FIXTURES / "yaml_bomb.yml"
    started = time.monotonic()
    with pytest.raises(MappingError, match=r"YAML aliases \(\*a0\) are not allowed"):
        Codebook.load(bomb)
    assert time.monotonic() - started < 1
    done = load(db, bomb, FIXTURES / "umfrage_2021_de.csv", limit_memory=True)
    one_line_error(done, str(bomb), "line 2", "aliases")


# --- publish: open answers reach marts only as categories of >= 5 respondents ----------------------------


def marts_values(wh) -> list[str]:
    """Every value of every text or JSON column of every table in schema marts (JSON as its text)."""
    columns = rows(
        wh,
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        " and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY')",
    )
    values = []
    for table, column in columns:
        values += [
            str(v)
            for (v,) in rows(wh, f'select distinct "{column}"::text from marts."{table}" where "{column}" is not null')
        ]
    return values


def test_published_demographics_are_categories_of_at_least_5_respondents(server_db, cstrack, query):
    for codebook, data in [
        ("participants_2021.yml", "participants_2021.xlsx"),
        ("umfrage_2021_de.yml", "umfrage_2021_de.csv"),
        ("umfrage_2021_en.yml", "umfrage_2021_en.csv"),
    ]:
        cstrack("load", "survey", str(FIXTURES / codebook), str(FIXTURES / data), check=True)
    marts.build(server_db)

    def segments(survey, dimension):
        return {
            value: (n, suppressed)
            for value, n, suppressed in query(
                server_db,
                "select dimension_value, n, suppressed from marts.agg_survey_construct_by_segment"
                " where survey = %s and dimension = %s",
                (survey, dimension),
            )
        }

    # §6.3: Age has no map: 30-39 and 40-49 (5 each) are published; 23, "sechzig plus" and 67 are 'other'
    assert segments("participants_2021", "age_band") == {
        "30-39": (5, False), "40-49": (5, False), "other": (3, True), "not stated": (1, True),
    }  # fmt: skip
    ages = query(
        server_db,
        "select age_band, count(*) from marts.fct_survey_response where survey = 'participants_2021' group by 1",
    )
    assert dict(ages) == {"30-39": 5, "40-49": 5, "other": 3, None: 1}
    # umfrage 2021, both language versions together: Master 3 + 2, Bachelor 5 + 1, Abitur 5; 'other':
    # Promotion 2, PhD 2, Secondary school, three self-descriptions and one "keine Angabe"
    assert segments("umfrage", "education") == {
        "Master": (5, False), "Bachelor": (6, False), "Abitur": (5, False), "other": (9, False),
        "not stated": (2, True),
    }  # fmt: skip
    # occupation is in the German version only: the English respondents have not stated it
    occupation = segments("umfrage", "occupation")
    assert occupation["Lehrerin"] == (5, False) and occupation["Rentner"] == (5, False)
    assert occupation["other"] == (8, False) and occupation["not stated"] == (9, False)
    # the classic dimensions are still there, the mapped age bands of the English version among them
    assert segments("umfrage", "age_band")["25-34"] == (8, False)
    assert {d for (d,) in query(server_db, "select distinct dimension from marts.agg_survey_construct_by_segment")} == {
        "overall", "gender", "age_band", "country", "project", "language", "education", "occupation",
    }  # fmt: skip
    demographics = query(
        server_db,
        "select demographics from marts.fct_survey_response where survey = 'umfrage' and construct = 'motivation'",
    )
    assert {"age_band": "other", "country": "DE", "education": "other", "gender": "female", "language": "de",
            "occupation": "other"} in [d for (d,) in demographics]  # fmt: skip

    # no value held by fewer than 5 respondents reaches marts, in any table or column
    published = marts_values(server_db)
    text = "\n".join(published)
    for rare in RARE_EDUCATION | {"Tischlermeisterin im Ruhestand", "Hebamme", "sechzig plus"}:
        assert rare not in text, rare
    for rare in RARE_OCCUPATION | RARE_AGE:
        assert rare not in published and f'"{rare}"' not in text, rare
    # ... although raw holds them (the scan was not vacuous)
    raw = str(query(server_db, "select attributes_open from raw.survey_respondent"))
    assert all(rare in raw for rare in RARE_EDUCATION | RARE_OCCUPATION | RARE_AGE)


# --- property: the survey CSV reader on random cells -----------------------------------------------------

HEADER = ["id", "Consent given?", "Q1 Interest", "Q2 Fun", "Wie alt sind Sie?"]
PROPERTY_CODEBOOK = """\
survey: fuzz
wave: "1"
format: csv
csv: {delimiter: DELIMITER, encoding: ENCODING}
respondent_id: id
consent: {column: "Consent given?", required: "yes"}
demographics:
  age_band: {column: "Wie alt sind Sie?"}
scales:
  agree5: {min: 1, max: 5}
items:
  Q1: {column_prefix: "Q1 ", scale: agree5, construct: c}
  Q2: {column_prefix: "Q2 ", scale: agree5, construct: c}
constructs:
  c: {label: C}
"""
piece = st.sampled_from(
    ['"', '""', ",", ";", "\n", "\r\n", "\r", "\x00", "ä", "€", "😀", "\ufeff", "yes", "3", " ", "x" * 50]
)
cell = st.text(max_size=12) | st.lists(piece | st.text(max_size=3), max_size=8).map("".join)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(cell, max_size=7), max_size=6),
    raw=st.lists(st.sampled_from(["quoted", "plain", "cut"]), min_size=1, max_size=6),
    encoding=st.sampled_from(["utf-8-sig", "cp1252", "latin-1", "utf-16"]),
    write_as=st.sampled_from(["utf-8", "cp1252", "utf-16", "mixed"]),
    delimiter=st.sampled_from([",", ";"]),
)
def test_survey_csv_reader_yields_rows_or_quarantine_or_one_mapping_error(rows, raw, encoding, write_as, delimiter):
    """Whatever the cells (quotes, delimiters, line breaks, NUL, characters the encoding lacks, bytes of
    another encoding): rows with every header column and no NUL, rows to quarantine with a reason, or
    one MappingError naming the file; never another exception."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(HEADER)
    for cells, how in zip(rows, raw * len(rows), strict=False):
        if how == "quoted":
            writer.writerow(cells)
        else:  # written by hand: quotes and delimiters inside cells break the row as real exports do
            line = delimiter.join(cells)
            out.write(line[: len(line) // 2] if how == "cut" else line)
            out.write("\r\n")
    text = out.getvalue()
    if write_as == "mixed":
        half = len(text) // 2
        body = text[:half].encode("utf-8", "surrogatepass") + text[half:].encode("cp1252", "replace")
    else:
        body = text.encode(write_as, "replace")
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "fuzz.yml"
        book.write_text(PROPERTY_CODEBOOK.replace("DELIMITER", f'"{delimiter}"').replace("ENCODING", encoding))
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(body)
        codebook = Codebook.load(book)
        try:
            reader = CsvReader(codebook, path)
            numbers = []
            for number, row, reason in reader.rows():
                numbers.append(number)
                if row is None:
                    assert isinstance(reason, str) and reason.startswith("line ")
                else:
                    assert reason is None and set(row) == set(reader.columns)
                    assert all("\x00" not in value for value in row.values())
            assert numbers == list(range(1, len(numbers) + 1))
            assert all("\x00" not in column for column in reader.columns)
        except MappingError as err:
            assert str(path) in str(err) and "\n" not in str(err)
