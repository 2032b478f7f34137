"""What `cstrack refresh` shows: one line per task as it finishes; Airflow's and dbt's own output in a log file.

`RunDisplay` reads the output stream of a run (`airflow dags test`), writes all of it to
$CSTRACK_HOME/logs/<run>/airflow.log and shows only the tasks' marker lines (progress.reported prints them):
on a terminal with a live line for the running task (its latest progress line and elapsed time, via rich),
otherwise as plain lines. A failed task's own lines go to <task>.log beside it and its last lines are shown.
`verbose` shows the whole stream, as `airflow dags test` prints it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import TextIO

from cstrack import config

MARK = "cstrack-task "  # a marker line: MARK + JSON
TAIL_LINES = 12  # lines of a failed task's log shown on the console
# progress worth a live line: our indented progress lines, and dbt's "12:45:57  3 of 17 OK created ..." steps
_PROGRESS = re.compile(r"^(?:  (\S.*)|\d\d:\d\d:\d\d\s+(\d+ of \d+ .*))$")


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
        text = f"{task:<22} {state_text:<7} {event.get('seconds', 0):7.1f} s  {event.get('figures', '')}"
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
