"""What `cstrack refresh` shows: one line per task as it finishes; Airflow's and dbt's own output in a log file.

The DAGs' task callables are wrapped by `reported`: a task prints a marker line when it starts and when it
ends (state, duration, its figures: rows read/loaded/quarantined, marts published). `RunDisplay` reads the
output stream of a run (`airflow dags test`), writes all of it to $CSTRACK_HOME/logs/<run>/airflow.log and
shows only the markers: on a terminal with a live line for the running task (its latest progress line and
elapsed time, via rich), otherwise as plain lines. A failed task's own lines go to <task>.log beside it and
its last lines are shown. `verbose` shows the whole stream, as `airflow dags test` prints it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from cstrack import config
from cstrack.errors import one_line, task_errors

MARK = "cstrack-task "  # a marker line: MARK + JSON
TAIL_LINES = 12  # lines of a failed task's log shown on the console
# progress worth a live line: our indented progress lines, and dbt's "12:45:57  3 of 17 OK created ..." steps
_PROGRESS = re.compile(r"^(?:  (\S.*)|\d\d:\d\d:\d\d\s+(\d+ of \d+ .*))$")


def reported(func):
    """Decorator for the DAGs' task callables: task_errors (one-line failures) plus start and end markers."""
    checked = task_errors(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        task, attempt = _task_instance(func)
        _mark(event="start", task=task, attempt=attempt)
        started, began = time.monotonic(), dt.datetime.now(dt.UTC)
        try:
            result = checked(*args, **kwargs)
        except BaseException as exc:  # Airflow's timeout and termination too: the outcome is still reported
            seconds = time.monotonic() - started
            _mark(event="end", task=task, attempt=attempt, state="failed", seconds=seconds, figures=one_line(exc))
            _record(task, attempt, "failed", began, None, one_line(exc))
            raise
        seconds = time.monotonic() - started
        _mark(event="end", task=task, attempt=attempt, state="success", seconds=seconds, figures=figures(result))
        _record(task, attempt, "success", began, result, None)
        return result

    return wrapper


def _record(task: str, attempt: int, state: str, began: dt.datetime, result: Any, message: str | None) -> None:
    """The task's outcome in ops.task_run, for the data steward's page; best effort: a task whose warehouse
    is unreachable (the reason it failed, maybe) is not failed again for it. Only inside an Airflow task."""
    try:
        from airflow.sdk import get_current_context

        context = get_current_context()
    except Exception:  # not inside an Airflow task
        return
    counts = (_load_counts(result) if result else None) or (None, None, None)
    try:
        from cstrack import warehouse
        from cstrack.orchestration import airflow_glue

        with warehouse.connect(airflow_glue.warehouse_from_connection()) as conn:
            conn.execute(
                "insert into ops.task_run (dag_id, run_id, task_id, attempt, state, started_at, finished_at,"
                " rows_read, rows_loaded, rows_quarantined, message)"
                " values (%s, %s, %s, %s, %s, %s, now(), %s, %s, %s, %s)",
                (context["dag"].dag_id, context["run_id"], task, attempt, state, began, *counts, message),
            )
    except Exception as exc:  # noqa: BLE001 -- the outcome is the task's, not this record's
        print(f"  (task outcome not recorded in ops.task_run: {one_line(exc)})", flush=True)


def _task_instance(func) -> tuple[str, int]:
    """(task id, attempt) from Airflow's context; the function's name outside a task."""
    try:
        from airflow.sdk import get_current_context

        ti = get_current_context()["ti"]
        return ti.task_id, int(getattr(ti, "try_number", 1) or 1)
    except Exception:  # not inside an Airflow task (a direct call, a test)
        return func.__name__, 1


def _mark(**event: Any) -> None:
    print(MARK + json.dumps(event), flush=True)


def _load_counts(result: Any) -> tuple[int, int, int] | None:
    """(rows read, loaded, quarantined) over the new files of a load task's result; None for other results."""
    if not (isinstance(result, list) and all(isinstance(r, dict) and "rows_read" in r for r in result)):
        return None
    new = [r for r in result if not r.get("skipped")]
    return tuple(sum(r[k] for r in new) for k in ("rows_read", "rows_loaded", "rows_quarantined"))


def figures(result: Any) -> str:
    """A task's result in a few words: what a load read, loaded and quarantined; what a build published."""
    counts = _load_counts(result)
    if counts is not None:
        new = [r for r in result if not r.get("skipped")]
        parts = []
        if new:
            read, loaded, quarantined = counts
            files = f"{len(new)} file{'s' if len(new) != 1 else ''}"
            parts.append(f"{files}: {read:,} rows read, {loaded:,} loaded, {quarantined:,} quarantined")
        if len(new) < len(result):
            parts.append(f"{len(result) - len(new)} already loaded")
        return "; ".join(parts) or "nothing new"
    if isinstance(result, dict) and result and all(isinstance(v, int) for v in result.values()):
        main = [f"{key} {result[key]:,} rows" for key in ("dim_project", "fct_social_post") if key in result]
        return f"both quality gates passed, {len(result)} marts published" + (f" ({', '.join(main)})" if main else "")
    return "" if result is None else " ".join(str(result).split())[:200]


class RunDisplay:
    """Reads a run's output line by line; see the module's docstring."""

    def __init__(self, name: str, verbose: bool = False, plain: bool | None = None, out: TextIO | None = None):
        self.out = out or sys.stdout
        self.dir = run_log_dir(name)
        self.log = (self.dir / "airflow.log").open("w", encoding="utf-8")
        self.verbose = verbose
        self.live = None
        if not verbose and not plain and self.out.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=Console(file=self.out), transient=True,
            )  # fmt: skip
            self.live.start()
        self.running: dict[str, dict] = {}  # task -> {"lines": [...], "bar": rich task id}
        self.failed: list[str] = []

    def line(self, text: str) -> None:
        self.log.write(text if text.endswith("\n") else text + "\n")
        if self.verbose:
            print(text, end="" if text.endswith("\n") else "\n", file=self.out, flush=True)
            return
        stripped = text.rstrip("\n")
        marker = stripped.find(MARK)
        if marker >= 0:
            try:
                event = json.loads(stripped[marker + len(MARK) :])
            except ValueError:
                return
            self._event(event)
            return
        for task, state in self.running.items():  # while one task runs, its lines are its log
            state["lines"].append(stripped)
            found = _PROGRESS.match(stripped) if self.live and len(self.running) == 1 else None
            if found:
                step = " ".join((found.group(1) or f"dbt {found.group(2)}").split())
                self.live.update(state["bar"], description=f"{task}: {step[:100]}")

    def _event(self, event: dict) -> None:
        task = event.get("task", "?")
        if event.get("event") == "start":
            bar = self.live.add_task(f"{task}", total=None) if self.live else None
            self.running[task] = {"lines": [], "bar": bar}
            return
        state = self.running.pop(task, {"lines": [], "bar": None})
        if self.live and state["bar"] is not None:
            self.live.remove_task(state["bar"])
        ok = event.get("state") == "success"
        attempt = int(event.get("attempt") or 1)
        state_text = event.get("state", "?") + (f" (attempt {attempt})" if attempt > 1 else "")
        text = f"{task:<17} {state_text:<7} {event.get('seconds', 0):7.1f} s  {event.get('figures', '')}"
        self._print(text.rstrip())
        if not ok:  # Airflow may retry it: each attempt's lines are kept apart
            path = self.dir / (f"{task}.log" if attempt == 1 else f"{task}.attempt{attempt}.log")
            path.write_text("\n".join(state["lines"]) + "\n", encoding="utf-8")
            self.failed.append(task)
            for tail in state["lines"][-TAIL_LINES:]:
                self._print(f"    | {tail[:200]}")
            self._print(f"    log: {path}")

    def _print(self, text: str) -> None:
        if self.live:
            self.live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=self.out, flush=True)

    def close(self) -> None:
        if self.live:
            self.live.stop()
        self.log.close()
        if not self.verbose:
            print(f"logs: {self.dir}", file=self.out, flush=True)


def run_log_dir(name: str) -> Path:
    """$CSTRACK_HOME/logs/<name>-<UTC time>/, new for each run."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = config.home() / "logs" / f"{name}-{stamp}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = path.with_name(f"{name}-{stamp}-{suffix}")
    path.mkdir(parents=True)
    return path
