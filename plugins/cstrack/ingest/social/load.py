"""Loading a social export: the parser of its format, enrichment (in worker processes for large files),
COPY into raw.social_post through loading.Load; the inbox."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cstrack import config, warehouse
from cstrack.errors import CstrackError
from cstrack.ingest import pool
from cstrack.ingest.loading import Load, LoadResult, RawTable
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.lynguo import lynguo_posts
from cstrack.ingest.social.mastodon import mastodon_posts
from cstrack.ingest.social.posts import COLUMN_TYPES, COLUMNS, FORMATS, TABLE, BadPost
from cstrack.ingest.social.twitter_v2 import twitter_posts
from cstrack.ingest.text import snippet


def parse(format: str, path: Path, unmapped=None) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    if format == "twitter_v2":
        return twitter_posts(path, unmapped)
    if format == "mastodon":
        return mastodon_posts(path, unmapped)
    if format == "lynguo":
        return lynguo_posts(path, unmapped)
    raise CstrackError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")


POSTS_TABLE = RawTable(TABLE, COLUMNS, column_types=COLUMN_TYPES)  # binary COPY

# Enrichment is most of a load's CPU time and posts are independent: large files are enriched by worker
# processes while this process parses and COPYs. Below this size a pool's start costs more than it saves.
PARALLEL_FROM_BYTES = 4 << 20
# one per core (this process's own parsing and COPY share them); on one core a pool only adds its overhead
WORKERS = 4
BATCH_POSTS = 500


def _enriched(enricher: Enricher, item: tuple) -> tuple:
    """One parsed item as a load's row: enriched values, or None and the reason to quarantine it."""
    number, post, reason, field, raw_value = item
    if post is not None:
        try:
            return number, enricher.row(post), None, None, None
        except BadPost as exc:
            reason, field, raw_value = f"post {number}: {exc}", exc.field, None
    # reasons quote the input: keep them storable (no NUL, no lone surrogate)
    return number, None, snippet(reason or "unreadable"), field, raw_value


_worker_enricher: Enricher | None = None


def _start_worker(enricher: Enricher) -> None:
    global _worker_enricher
    _worker_enricher = enricher


def _enrich_batch(items: list[tuple]) -> list[tuple]:
    return [_enriched(_worker_enricher, item) for item in items]


def _in_workers(items: Iterator[tuple], enricher: Enricher, workers: int) -> Iterator[tuple]:
    """_enriched of every item, computed by `workers` processes, in input order. Forked workers inherit the
    built enricher: no second import, no second lexicon."""
    # load langdetect's profiles once, before the fork, rather than in every worker
    enricher.detect("Hoy contamos aves en el parque con el proyecto de ciencia ciudadana")
    for rows in pool.ordered_map(_enrich_batch, pool.batched(items, BATCH_POSTS), workers, _start_worker, (enricher,)):
        yield from rows


def prepared_rows(format: str, path: Path, enricher: Enricher, unmapped=None, workers: int = 0):
    """The load's rows: (number, raw.social_post values or None, reason, field, raw value).

    Nothing is kept per post, so memory stays flat: a post twice in one file loads twice (two observations
    of the same load; dbt keeps the later row). With `workers` > 0 the same rows, in the same order, are
    computed by that many worker processes.
    """
    parsed = parse(format, path, unmapped)
    if workers > 0:
        yield from _in_workers(parsed, enricher, workers)
    else:
        for item in parsed:
            yield _enriched(enricher, item)


def load_social(
    format: str,
    data_path: str | Path,
    wh: warehouse.Warehouse | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> LoadResult:
    """Load one export of social posts into raw.social_post; the same content twice is a no-op.

    `workers`: processes that enrich the posts; by default WORKERS for files of PARALLEL_FROM_BYTES or more
    when the machine has idle cores, else none (this process does it). The loaded rows are the same either way.
    """
    if format not in FORMATS:
        raise CstrackError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")
    data_path = Path(data_path)
    if not data_path.is_file():
        raise CstrackError(f"{data_path}: data file not found")
    if workers is None:
        workers = pool.default_workers(data_path.stat().st_size, PARALLEL_FROM_BYTES, WORKERS)
    enricher = Enricher()
    unmapped: Counter = Counter()
    load = Load("social", format, hashlib.sha256(enricher.definition().encode()).hexdigest(), path=data_path)
    rows = prepared_rows(format, data_path, enricher, unmapped, workers)
    return load.run(POSTS_TABLE, rows, unmapped=unmapped, wh=wh, progress=progress)


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
        result = load_social(format, path, wh)
        print(result.summary(), flush=True)
        results.append(result)
    return results
