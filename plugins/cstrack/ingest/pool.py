"""One ordered worker pool for the loaders: batches of independent items worked on by forked processes while
this process reads the input and COPYs the results, in input order, with memory flat whatever the input's size."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def ordered_map(
    work: Callable[[list], Any],
    batches: Iterable[list],
    workers: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
) -> Iterator[Any]:
    """work(batch) for every batch, computed by `workers` forked processes, yielded in input order.

    Batches are submitted one by one and only a few wait at a time (Pool.imap would read the whole input
    ahead). Forked workers inherit what this process built (a lexicon, a mapping): `initializer(*initargs)`
    runs once in each. An exception in a worker is raised here, at its batch."""
    max_pending = 2 * workers + 2  # enough to keep every worker busy
    with multiprocessing.get_context("fork").Pool(workers, initializer, initargs) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.apply_async(work, (batch,)))
            if len(pending) >= max_pending:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def default_workers(file_size: int, parallel_from_bytes: int, most: int) -> int:
    """Workers for a file of `file_size` bytes: none below `parallel_from_bytes` (a pool's start costs more than
    it saves), none in a daemonic process (it may not start processes), and none unless the other work on the
    machine leaves cores idle: without them a pool only adds its overhead (measured on 2 busy cores: about 50 %
    more CPU time, and slower). Other work is what runs now (runnable_now), not the 1-minute load average, which
    still counts work that ended in the last minute and not yet work that has just started."""
    cores = min(most, os.cpu_count() or 1)
    if cores < 2 or file_size < parallel_from_bytes or multiprocessing.current_process().daemon:
        return 0
    other_work = runnable_now() - 1  # this process is one of them
    return cores if other_work + 1 < cores else 0


def runnable_now(samples: int = 5, every_seconds: float = 0.02) -> int:
    """Threads running or ready to run on the machine now, this one included: the median of a few readings of
    /proc/loadavg (Linux; its fourth field); a large number where it cannot be read: then no pool."""
    readings = []
    for sample in range(samples):
        try:
            readings.append(int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]))
        except (OSError, ValueError, IndexError):
            return 1 << 20
        if sample + 1 < samples:
            time.sleep(every_seconds)
    return sorted(readings)[samples // 2]
