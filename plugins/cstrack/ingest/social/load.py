"""Landing a social export: the parser of its format, the landed row of each post, COPY into raw.social_post
through loading.Load (held until enriched, see social/enrich.py); the inbox."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cstrack import config, warehouse
from cstrack.errors import CstrackError
from cstrack.ingest.loading import Load, LoadResult, RawTable
from cstrack.ingest.social import landing_workers
from cstrack.ingest.social.enrich import counting_months, enrich_pending, record_months
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.lynguo import lynguo_posts
from cstrack.ingest.social.mastodon import mastodon_posts
from cstrack.ingest.social.posts import COLUMN_TYPES, COLUMNS, FORMATS, TABLE
from cstrack.ingest.social.twitter_v2 import twitter_posts


def parse(format: str, path: Path, unmapped=None) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    if format == "twitter_v2":
        return twitter_posts(path, unmapped)
    if format == "mastodon":
        return mastodon_posts(path, unmapped)
    if format == "lynguo":
        return lynguo_posts(path, unmapped)
    raise CstrackError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")


POSTS_TABLE = RawTable(TABLE, COLUMNS, column_types=COLUMN_TYPES)  # binary COPY


def prepared_rows(format: str, path: Path, enricher: Enricher, unmapped=None) -> Iterator[tuple]:
    """The load's rows: (number, raw.social_post values or None, reason, field, raw value).

    Nothing is kept per post, so memory stays flat: a post twice in one file loads twice (two observations
    of the same load; dbt keeps the later row). One process: landing is cheap per post, and a pool's pickling
    would cost more than it saves (measured, issue #17); the enrichment after it runs in parallel.
    """
    for item in parse(format, path, unmapped):
        yield enricher.landed(item)


def load_social(
    format: str,
    data_path: str | Path,
    wh: warehouse.Warehouse | None = None,
    progress: Callable[[str], None] | None = None,
    enrich: bool = True,
) -> LoadResult:
    """Land one export of social posts in raw.social_post; the same content twice is a no-op.

    The load commits held (no commit_seq): with `enrich` the waiting posts are then enriched and the load
    published to builds here; without it (the DAGs' landing task) the enrichment tasks do it.
    """
    if format not in FORMATS:
        raise CstrackError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")
    data_path = Path(data_path)
    if not data_path.is_file():
        raise CstrackError(f"{data_path}: data file not found")
    wh = wh or warehouse.current()
    enricher = Enricher()
    unmapped: Counter = Counter()
    months: Counter = Counter()
    definition = hashlib.sha256(enricher.definition().encode()).hexdigest()
    load = Load("social", format, definition, path=data_path, held=True)

    def rows():
        return counting_months(prepared_rows(format, data_path, enricher, unmapped), months)

    workers = landing_workers.workers_for(format, data_path)
    result = load.run(
        POSTS_TABLE,
        landing_workers.encoded_posts(format, data_path, POSTS_TABLE, workers, months, unmapped, rows)
        if workers
        else rows(),
        unmapped=unmapped,
        after_copy=lambda conn, load_id: record_months(conn, load_id, months),
        wh=wh,
        progress=progress,
    )
    if enrich:
        enrich_pending(wh, progress=progress)
    return result


def format_of(path: Path) -> str | None:
    """The format a file name starts with: twitter_v2_2024.jsonl -> twitter_v2."""
    name = path.name.casefold()
    return next((f for f in FORMATS if name.startswith(f)), None)


def load_social_file(path: Path, wh: warehouse.Warehouse | None = None, format: str | None = None) -> LoadResult:
    """`cstrack load social FILE`: the format from --format, else from the file name."""
    format = format or format_of(Path(path))
    if format is None:
        raise CstrackError(
            f"{path}: say the format with --format ({', '.join(FORMATS)}) or start the file name with it"
        )
    return load_social(format, path, wh)


def load_social_inbox(wh: warehouse.Warehouse | None = None, inbox: Path | None = None) -> list[LoadResult]:
    """Load every file of `<inbox>/social/` whose name starts with its format (twitter_v2*, mastodon*, lynguo*)."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    folder = (inbox or config.inbox()) / "social"
    results = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith("."):
            continue
        format = format_of(path)
        if format is None:
            raise CstrackError(f"{path}: the file name must start with one of {', '.join(FORMATS)}")
        result = load_social(format, path, wh, enrich=False)  # the DAGs enrich in their own tasks
        print(result.summary(), flush=True)
        results.append(result)
    return results
