"""What `cstrack refresh` prints: one line per task from the tasks' markers, the rest in a log file; a failed
task's own lines beside it and its last lines on the console. (The refresh itself: test_refresh_end_to_end.)"""

from __future__ import annotations

import io
import json

import pytest

from cstrack.errors import CstrackError
from cstrack.orchestration import progress, run_display

pytestmark = pytest.mark.fast


def marker(**event) -> str:
    return run_display.MARK + json.dumps(event) + "\n"


def test_figures_say_what_a_task_did():
    loads = [
        {"rows_read": 1200, "rows_loaded": 1190, "rows_quarantined": 10, "skipped": False},
        {"rows_read": 300, "rows_loaded": 300, "rows_quarantined": 0, "skipped": False},
        {"rows_read": 5, "rows_loaded": 5, "rows_quarantined": 0, "skipped": True},
    ]
    assert progress.figures(loads) == "2 files: 1,500 rows read, 1,490 loaded, 10 quarantined; 1 already loaded"
    assert progress.figures([]) == "nothing new"
    assert progress.figures({"dim_project": 699, "bridge_project_country": 699}) == (
        "both quality gates passed, 2 marts published (dim_project 699 rows)"
    )
    assert progress.figures("/tmp/report/index.html") == "/tmp/report/index.html" and progress.figures(None) == ""


def test_the_display_shows_tasks_and_keeps_the_rest_in_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv("CSTRACK_HOME", str(tmp_path))
    out = io.StringIO()  # not a terminal: plain lines
    display = run_display.RunDisplay("warehouse_refresh", out=out)
    display.line("2026-12-03T12:45:30Z [info     ] Bulk-writing dags to db\n")
    display.line(marker(event="start", task="load_catalogues", attempt=1))
    display.line("  awesome_cs_nl: 50,000 rows read (9,000/s), 3 quarantined\n")
    display.line(marker(event="end", task="load_catalogues", state="success", seconds=1.25, figures="1 file: ..."))
    display.line(marker(event="start", task="build_marts", attempt=1))
    for i in range(20):
        display.line(f"dbt line {i}\n")
    display.line(marker(event="end", task="build_marts", state="failed", seconds=3, figures="quality gate failed"))
    display.line(marker(event="start", task="load_social", attempt=2))
    display.line(marker(event="end", task="load_social", attempt=2, state="failed", seconds=1, figures="no server"))
    display.close()
    shown = out.getvalue().splitlines()
    assert shown[0] == "load_catalogues        success     1.2 s  1 file: ..."
    assert shown[1] == "build_marts            failed      3.0 s  quality gate failed"
    assert shown[2:14] == [f"    | dbt line {i}" for i in range(8, 20)]  # the failed task's last lines
    task_log = display.dir / "build_marts.log"
    assert shown[14] == f"    log: {task_log}" and task_log.read_text().splitlines()[0] == "dbt line 0"
    assert shown[15] == "load_social            failed (attempt 2)     1.0 s  no server"  # Airflow retried it
    assert shown[16] == f"    log: {display.dir / 'load_social.attempt2.log'}"
    assert shown[17] == f"logs: {display.dir}" and len(shown) == 18
    log = (display.dir / "airflow.log").read_text()
    assert "Bulk-writing dags" in log and "dbt line 19" in log and "rows read" in log  # everything is kept


def test_verbose_prints_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("CSTRACK_HOME", str(tmp_path))
    out = io.StringIO()
    display = run_display.RunDisplay("build_marts", verbose=True, out=out)
    display.line("Bulk-writing dags to db\n")
    display.close()
    assert out.getvalue() == "Bulk-writing dags to db\n"


def test_reported_marks_start_and_end_and_keeps_the_one_line_error(capsys):
    @progress.reported
    def load_things():
        return [{"rows_read": 2, "rows_loaded": 2, "rows_quarantined": 0}]

    @progress.reported
    def broken():
        raise ValueError("bad\nthing")

    load_things()
    with pytest.raises(CstrackError, match="unexpected ValueError: bad"):
        broken()
    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line[len(run_display.MARK) :]) for line in lines if line.startswith(run_display.MARK)]
    assert [(e["event"], e["task"], e.get("state")) for e in events] == [
        ("start", "load_things", None), ("end", "load_things", "success"),
        ("start", "broken", None), ("end", "broken", "failed"),
    ]  # fmt: skip
    assert (
        events[1]["figures"] == "1 file: 2 rows read, 2 loaded, 0 quarantined"
        and events[3]["figures"] == "unexpected ValueError: bad"
    )
