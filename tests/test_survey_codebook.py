"""The codebook contract: every error names the codebook, the item (or attribute) and the candidate
columns, and nothing loads; the CLI prints it on one line and exits non-zero."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cstrack.errors import MappingError
from cstrack.ingest.survey import Codebook, load_survey

HEADER = (
    "id,consent,Gender,Q1. How much do you agree? [The topic interests me],"
    "Q2. How much do you agree? [I learned a lot],Q2b extra\n"
)
BASE = {
    "items": '  Q1: {column_prefix: "Q1.", scale: agree5, construct: interest}\n'
    '  Q2: {column: "Q2. How much do you agree? [I learned a lot]", scale: agree5, construct: interest}',
    "demographics": "gender: {column: Gender, map: {f: female}}",
}


def codebook(tmp_path: Path, items: str = BASE["items"], demographics: str = BASE["demographics"]) -> Path:
    path = tmp_path / "check.yml"
    path.write_text(
        textwrap.dedent("""\
            survey: check
            wave: "1"
            format: csv
            respondent_id: id
            consent: {column: consent, required: "yes"}
            demographics:
              DEMOGRAPHICS
            scales:
              agree5: {min: 1, max: 5}
            items:
            ITEMS
            constructs:
              interest: {label: Interest}
        """)
        .replace("DEMOGRAPHICS", demographics)
        .replace("ITEMS", items)
    )
    return path


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "check.csv"
    path.write_text(HEADER + "r1,yes,f,4,5,\n")
    return path


@pytest.mark.parametrize(
    "items, demographics, expected",
    [
        (
            '  Q1: {column: "Q1 How much do you agree", scale: agree5, construct: interest}',
            BASE["demographics"],
            [
                "item 'Q1'",
                "column 'Q1 How much do you agree' not found in",
                "candidates: 'Q1. How much do you agree? [The topic interests me]'",
            ],
        ),
        (
            '  Q1: {column_prefix: "Q9.", scale: agree5, construct: interest}',
            BASE["demographics"],
            ["item 'Q1'", "column_prefix 'Q9.' matches no column in", "candidates:"],
        ),
        (
            '  Q2: {column_prefix: "Q2", scale: agree5, construct: interest}',
            BASE["demographics"],
            [
                "item 'Q2'",
                "column_prefix 'Q2' matches 2 columns in",
                "'Q2. How much do you agree? [I learned a lot]'",
                "'Q2b extra'",
            ],
        ),
        (
            '  Q1: {column_prefix: "Q1.", scale: agree7, construct: interest}',
            BASE["demographics"],
            ["item 'Q1'", "unknown scale 'agree7'", "candidates: agree5"],
        ),
        (
            '  Q1: {column_prefix: "Q1.", scale: agree5, construct: motivation}',
            BASE["demographics"],
            ["item 'Q1'", "unknown construct 'motivation'", "candidates: interest"],
        ),
        (
            BASE["items"],
            "gender: {column: Gender, map: {f: female}, parse: country}",
            ["demographics.gender", "at most one of `map`, `parse`"],
        ),
        (BASE["items"], "Sex: {column: Gender, map: {f: female}}", ["demographics.Sex", "lower_snake_case"]),
        (BASE["items"], "overall: {column: Gender}", ["demographics.overall", "reserved"]),
        (BASE["items"], "gender: {column: Gender, parse: [country]}", ["demographics.gender.parse", "is not one of"]),
        (
            BASE["items"],
            "gender: {column: Geschlecht, map: {f: female}}",
            ["attribute 'gender'", "column 'Geschlecht' not found", "candidates:"],
        ),
    ],
)
@pytest.mark.fast
def test_codebook_errors_name_codebook_item_and_candidates(tmp_path, export, items, demographics, expected):
    book = codebook(tmp_path, items, demographics)
    with pytest.raises(MappingError) as error:
        load_survey(book, export)  # fails before connecting to any warehouse
    message = str(error.value)
    assert message.startswith(f"{book}: ") and "\n" not in message
    for part in expected:
        assert part in message
    if "not found in" in message or "column in" in message or "columns in" in message:
        assert str(export) in message


@pytest.mark.fast
def test_two_items_on_one_column_and_a_construct_without_items(tmp_path, export):
    items = BASE["items"] + '\n  Q3: {column_prefix: "Q1.", scale: agree5, construct: interest}'
    with pytest.raises(MappingError, match=r"item 'Q3': column 'Q1\. How much.*' is already read by item 'Q1'"):
        load_survey(codebook(tmp_path, items), export)
    path = codebook(tmp_path)
    path.write_text(
        path.read_text().replace("interest: {label: Interest}", "interest: {label: Interest}\n  empty: {label: E}")
    )
    with pytest.raises(MappingError, match=r"construct\(s\) \['empty'\] have no items"):
        Codebook.load(path)


def test_cli_loads_and_reports_codebook_errors_on_one_line(server_db, cstrack, tmp_path, export, query):
    good = cstrack("load", "survey", str(codebook(tmp_path)), str(export), check=True)
    assert "read 2, loaded 2, quarantined 0" in good.stdout
    assert query(server_db, "select item, value from raw.survey_answer order by 1") == [("Q1", 4), ("Q2", 5)]
    bad = cstrack(
        "load",
        "survey",
        str(codebook(tmp_path, '  Q1: {column_prefix: "Q", scale: agree5, construct: interest}')),
        str(export),
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("cstrack: error: ") and bad.stderr.count("\n") == 1
    assert "item 'Q1': column_prefix 'Q' matches 3 columns" in bad.stderr


def test_inbox_files_load_once_through_the_codebook_their_name_starts_with(server_db, monkeypatch, tmp_path, query):
    import shutil

    from cstrack.errors import CstrackError
    from cstrack.ingest.survey import load_survey_inbox

    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "surveys"
    (tmp_path / "surveys").mkdir()
    shutil.copy(sample / "participants_2022_es.sav", tmp_path / "surveys" / "participants_2022_es_final.sav")
    monkeypatch.setenv("CSTRACK_INBOX", str(tmp_path))
    first = load_survey_inbox(server_db)
    assert [(Path(r.source_file).name, r.skipped) for r in first] == [("participants_2022_es_final.sav", False)]
    assert query(server_db, "select source_system from ops.load_run") == [("participants_2022_es",)]
    assert [r.skipped for r in load_survey_inbox(server_db)] == [True]
    (tmp_path / "surveys" / "organisers_2022.csv").write_text("a,b\n1,2\n")
    with pytest.raises(
        CstrackError, match=r"organisers_2022\.csv: no codebook in .*surveys whose name starts the file name"
    ):
        load_survey_inbox(server_db)


@pytest.mark.fast
def test_ingest_survey_dag_produces_the_survey_asset(home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(home / "airflow"))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[1] / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["ingest_survey"]
    assert [t.task_id for t in dag.tasks] == ["load_surveys"]
    survey_tables = ("survey_answer", "survey_respondent", "survey_item", "survey_free_text")
    produced = {o.uri for o in dag.tasks[0].outlets}
    assert produced == {f"postgres://warehouse:5432/cstrack/raw/{table}" for table in survey_tables}
    consumed = {a.uri for a in bag.dags["build_marts"].timetable.asset_condition.objects}
    assert produced <= consumed


@pytest.mark.fast
def test_sav_items_match_by_variable_name_or_by_the_start_of_their_label(tmp_path):
    import pandas as pd
    import pyreadstat

    from cstrack.ingest.survey import open_reader

    data = tmp_path / "spss.sav"
    frame = pd.DataFrame({"id": ["r1"], "consent": ["yes"], "Gender": ["f"], "q1": [4.0], "q2": [2.0]})
    labels = [
        "Id",
        "Consent",
        "Gender",
        "How much do you agree? [The topic interests me]",
        "How much do you agree? [Fun]",
    ]
    pyreadstat.write_sav(frame, str(data), column_labels=labels)
    items = (
        '  Q1: {column_prefix: "How much do you agree? [The topic", scale: agree5, construct: interest}\n'
        "  Q2: {column: q2, scale: agree5, construct: interest}"
    )
    book = codebook(tmp_path, items)
    book.write_text(book.read_text().replace("format: csv", "format: sav"))
    parsed = Codebook.load(book)
    open_reader(parsed, data)
    assert [i.ref.resolved for i in parsed.items] == ["q1", "q2"]
    ambiguous = codebook(tmp_path, '  Q1: {column_prefix: "How much", scale: agree5, construct: interest}')
    ambiguous.write_text(ambiguous.read_text().replace("format: csv", "format: sav"))
    with pytest.raises(
        MappingError, match=r"item 'Q1': column_prefix 'How much' matches 2 columns in .*spss\.sav: 'q1', 'q2'"
    ):
        open_reader(Codebook.load(ambiguous), data)
