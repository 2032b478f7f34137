"""Landing a large JSON lines export (twitter_v2, mastodon) on every idle core: this process reads the file a part
at a time (whole lines, about PART_BYTES) and hands each part to a forked worker, which parses it, counts its
items, learns from the worker of the part before where its numbering starts (and tells the next one), builds the
landed rows and encodes them for the binary COPY; this process COPYs the parts in file order. Each part is parsed
once. The rows, numbers and reasons are the ones one process gives (tests/test_social_landing_workers.py). A
file that is not JSON lines throughout (a top-level array, a value over several lines) raises
loading.NotEncodable, and Load lands it in one process."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cstrack.errors import CstrackError
from cstrack.ingest import pool
from cstrack.ingest.loading import (
    BinaryRowEncoder,
    EncodedInput,
    EncodedRows,
    NotEncodable,
    RawTable,
    encoded_blocks,
)
from cstrack.ingest.social.enrich import counting_months
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.json_stream import (
    MAX_LINE_BYTES,
    NotJsonLines,
    json_lines_values,
    record_nul,
)
from cstrack.ingest.social.mastodon import mastodon_items
from cstrack.ingest.social.posts import latest_post_at
from cstrack.ingest.social.twitter_v2 import page_item_count, twitter_items

PART_BYTES = 1 << 20  # about 1,500 tweets: a worker holds one part's pages, a few parts wait
WAIT_SECONDS = 600
PARALLEL_FROM_BYTES = 32 << 20  # below (about 45,000 tweets), starting workers costs more than it saves

# format -> (its items of values read, numbered after (items, values) before; how many items a value gives)
_FORMATS: dict[str, tuple[Callable[..., Iterator[tuple]], Callable[..., int]]] = {
    "twitter_v2": (twitter_items, page_item_count),
    "mastodon": (lambda values, number, _values, latest: mastodon_items(values, number, latest), lambda *_: 1),
}


@dataclass
class _Part:
    index: int
    offset: int  # whole lines of the file: the worker reads them itself
    size: int


class _Numbering:
    """Where each part's numbering starts, (lines, values, items) before it: the worker of a part publishes where
    the next one starts as soon as it has counted its own, before building rows. Shared by the forked workers."""

    def __init__(self, parts: int):
        context = multiprocessing.get_context("fork")
        self.starts = context.Array("q", [0, 0, 0] + [-1, -1, -1] * parts, lock=False)  # guarded by `changed`
        self.changed = context.Condition()

    def start_of(self, index: int) -> tuple[int, int, int]:
        with self.changed:
            # the part before is being read by another worker; if that one died, fail instead of waiting forever
            if not self.changed.wait_for(lambda: self.starts[3 * index] >= 0, timeout=WAIT_SECONDS):
                raise CstrackError(f"landing worker: part {index} waited {WAIT_SECONDS} s for the part before it")
            return tuple(self.starts[3 * index : 3 * index + 3])

    def publish_next(self, index: int, lines: int, values: int, items: int) -> None:
        with self.changed:
            self.starts[3 * index + 3 : 3 * index + 6] = [lines, values, items]
            self.changed.notify_all()


def workers_for(format: str, path: Path) -> int:
    """Landing workers for this file: none for CSV formats, small files or a busy machine (pool.default_workers)."""
    if format not in _FORMATS:
        return 0
    return pool.default_workers(path.stat().st_size, PARALLEL_FROM_BYTES, 2)


def encoded_posts(
    format: str,
    path: Path,
    into: RawTable,
    workers: int,
    months: Counter,
    unmapped: Counter,
    rows: Callable[[], Iterator[tuple]],
) -> EncodedInput:
    """The posts of `path` landed by `workers` processes for Load (`rows`: the same rows one at a time, for a
    file that is not JSON lines). Counts the landed posts per month in `months`, NUL removals in `unmapped`."""

    def blocks(load_id: int, source: str) -> Iterator[EncodedRows]:
        # parts hold PART_BYTES or more, except the last
        numbering = _Numbering(path.stat().st_size // PART_BYTES + 2)
        settings = (format, path, into, load_id, source, latest_post_at(), numbering)
        try:
            for encoded, part_months, part_unmapped in pool.ordered_map(
                _land_part, ([part] for part in _parts(path)), workers, _start_worker, settings
            ):
                months.update(part_months)
                unmapped.update(part_unmapped)
                yield encoded
        except NotJsonLines as exc:
            raise NotEncodable(f"{path}: {exc}") from exc

    def one_at_a_time() -> Iterator[tuple]:
        months.clear()  # what the parts counted was rolled back with them
        unmapped.clear()
        return rows()

    return EncodedInput(blocks, one_at_a_time)


def _parts(path: Path) -> Iterator[_Part]:
    """The file in parts of whole lines (about PART_BYTES each): only where each ends is read here."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        for index in itertools.count():
            if offset >= size:
                return
            handle.seek(offset + PART_BYTES)
            rest = handle.readline(MAX_LINE_BYTES)
            if len(rest) == MAX_LINE_BYTES and not rest.endswith(b"\n"):
                raise NotJsonLines("a line too long to read alone")
            end = min(offset + PART_BYTES + len(rest), size)
            yield _Part(index, offset, end - offset)
            offset = end


_worker: dict = {}


def _start_worker(
    format: str, path: Path, into: RawTable, load_id: int, source: str, latest: datetime, numbering: _Numbering
) -> None:
    items, item_count = _FORMATS[format]
    _worker.update(
        items=items, item_count=item_count, file=path.open("rb"), encoder=BinaryRowEncoder(into), enricher=Enricher(),
        load_id=load_id, source=source, latest=latest, numbering=numbering,
    )  # fmt: skip


def _land_part(batch: list[_Part]) -> tuple[EncodedRows, Counter, Counter]:
    """One part's rows encoded for the COPY, the rows to quarantine, its posts per month and NUL removals."""
    (part,) = batch
    gc.disable()  # a part's pages and rows hold no reference cycles: collecting while they are built only costs time
    try:
        return _landed_part(part)
    finally:
        gc.enable()


def _landed_part(part: _Part) -> tuple[EncodedRows, Counter, Counter]:
    data = os.pread(_worker["file"].fileno(), part.size, part.offset)
    numbering = _worker["numbering"]
    lines_before, values_before, items_before = numbering.start_of(part.index)
    nul_removed: Counter = Counter()
    values = list(json_lines_values(data, lines_before, nul_removed, first=values_before == 0))
    items = sum(_worker["item_count"](value, error) for value, error in values)
    numbering.publish_next(
        part.index, lines_before + data.count(b"\n"), values_before + len(values), items_before + items
    )
    months: Counter = Counter()
    posts = _worker["items"](values, items_before, values_before, _worker["latest"])
    rows = counting_months(map(_worker["enricher"].landed, posts), months)
    (encoded,) = encoded_blocks(rows, _worker["encoder"], _worker["load_id"], _worker["source"], block_bytes=None)
    unmapped: Counter = Counter()
    record_nul(nul_removed, unmapped)
    return encoded, months, unmapped
