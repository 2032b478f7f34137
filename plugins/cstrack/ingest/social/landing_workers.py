"""Landing a large JSON lines export (twitter_v2, mastodon) on every idle core: this process reads the file a part
at a time (whole lines, about PART_BYTES), counts the items of each part's pages so the next part knows its
first post number, and hands the part to a forked worker, which parses it, builds the landed rows and encodes
them for the binary COPY; the parts are COPYed in file order. The rows, numbers and reasons are the ones one
process gives (tests/test_social_landing_workers.py). A file that is not JSON lines throughout (a top-level
array, a value over several lines) raises loading.NotEncodable, and Load lands it in one process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cstrack.ingest import pool
from cstrack.ingest.loading import (
    BinaryRowEncoder,
    EncodedInput,
    EncodedRows,
    NotEncodable,
    RawTable,
    encoded_blocks,
)
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

PART_BYTES = 4 << 20  # about 6,000 tweets: a few parts wait per worker, so memory stays flat
PARALLEL_FROM_BYTES = 32 << 20  # below (about 45,000 tweets), starting workers costs more than it saves

# format -> (its items of values read, numbered after (items, values) before; how many items a value gives)
_FORMATS: dict[str, tuple[Callable[..., Iterator[tuple]], Callable[..., int]]] = {
    "twitter_v2": (twitter_items, page_item_count),
    "mastodon": (lambda values, number, _values, latest: mastodon_items(values, number, latest), lambda *_: 1),
}


@dataclass
class _Part:
    data: bytes  # whole lines of the file
    lines_before: int
    values_before: int
    items_before: int


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
        settings = (format, into, load_id, source, latest_post_at())
        try:
            for encoded, part_months, part_unmapped in pool.ordered_map(
                _land_part, ([part] for part in _parts(format, path)), workers, _start_worker, settings
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


def _parts(format: str, path: Path) -> Iterator[_Part]:
    """The file in parts of whole lines, each with the lines, values and items before it. A part is handed out
    before its own items are counted (orjson, no tweet read), so the workers start at once."""
    item_count = _FORMATS[format][1]
    lines = values = items = 0
    with path.open("rb") as handle:
        while data := handle.read(PART_BYTES):
            if not data.endswith(b"\n"):
                rest = handle.readline(MAX_LINE_BYTES)
                if len(rest) == MAX_LINE_BYTES and not rest.endswith(b"\n"):
                    raise NotJsonLines("a line too long to read alone")
                data += rest
            yield _Part(data, lines, values, items)
            for value, error in json_lines_values(data, lines, None, first=values == 0):
                values += 1
                items += item_count(value, error)
            lines += data.count(b"\n")


_worker: dict = {}


def _start_worker(format: str, into: RawTable, load_id: int, source: str, latest: datetime) -> None:
    _worker.update(
        items=_FORMATS[format][0], encoder=BinaryRowEncoder(into), enricher=Enricher(), load_id=load_id,
        source=source, latest=latest,
    )  # fmt: skip


def _land_part(batch: list[_Part]) -> tuple[EncodedRows, Counter, Counter]:
    """One part's rows encoded for the COPY, the rows to quarantine, its posts per month and NUL removals."""
    from cstrack.ingest.social.load import counting_months, landed  # load.py imports this module

    (part,) = batch
    nul_removed: Counter = Counter()
    months: Counter = Counter()
    values = json_lines_values(part.data, part.lines_before, nul_removed, first=part.values_before == 0)
    items = _worker["items"](values, part.items_before, part.values_before, _worker["latest"])
    rows = counting_months((landed(_worker["enricher"], item) for item in items), months)
    (encoded,) = encoded_blocks(rows, _worker["encoder"], _worker["load_id"], _worker["source"], block_bytes=None)
    unmapped: Counter = Counter()
    record_nul(nul_removed, unmapped)
    return encoded, months, unmapped
