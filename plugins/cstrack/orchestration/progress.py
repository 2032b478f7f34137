"""What each Airflow task reports when it ends: `reported` wraps the DAGs' task callables.

A task prints a marker line (run_display.MARK + JSON) when it starts and when it ends, with its state,
duration and figures (rows read/loaded/quarantined, marts published), which `cstrack refresh` shows
(run_display.RunDisplay); and it records its outcome in ops.task_run for the data steward's page.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from typing import Any

from cstrack.errors import one_line, task_errors
from cstrack.orchestration.run_display import MARK


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
        index = getattr(ti, "map_index", -1)
        name = ti.task_id if index is None or index < 0 else f"{ti.task_id}[{index}]"  # a mapped task's part
        return name, int(getattr(ti, "try_number", 1) or 1)
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
    if isinstance(result, list) and result and all(isinstance(part, list) for part in result):  # mapped parts
        return f"{len(result)} parts of {sum(len(part) for part in result)} items to map over"
    if isinstance(result, dict) and result and all(isinstance(v, int) for v in result.values()):
        main = [f"{key} {result[key]:,} rows" for key in ("dim_project", "fct_social_post") if key in result]
        return f"both quality gates passed, {len(result)} marts published" + (f" ({', '.join(main)})" if main else "")
    return "" if result is None else " ".join(str(result).split())[:200]
