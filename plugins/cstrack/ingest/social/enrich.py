"""Enrichment of landed social posts, one month of posted_at at a time (migration 0012).

A social load lands its posts at close to COPY speed without a commit_seq, so builds do not see it yet, and
records the months its posts fall in (ops.social_enrichment). `enrich_month` reads the posts of a month's
pending loads, computes their language (detected when the source gives none), sentiment and SDG mentions
(`Enricher.enrichment`), updates the rows that change and marks the month enriched, in one transaction: a
killed enrichment leaves its month pending and a re-run does it again. `publish_enriched` then gives each
load whose months are all enriched its commit_seq, in load order: from then on builds fold it in.

Months are independent, so the work splits into parts (`enrichment_parts`): the Airflow DAGs map one task over
each part (dynamic task mapping; on Celery, parts run on every worker), `enrich_pending` runs them in this
process or in forked workers.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

from cstrack import warehouse
from cstrack.constants import COMMIT_ORDER_LOCK
from cstrack.ingest import pool
from cstrack.ingest.loading import register_binary_dumpers
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.posts import COLUMNS

FETCH_POSTS = 5_000  # posts read per round trip from a month
# Airflow tasks the pending months are split into: one per core of a 2-core worker, or one per Celery worker
ENRICHMENT_PARTS = 2
# below this many waiting posts, forked workers cost more than they save
PARALLEL_FROM_POSTS = 50_000


_POSTED_AT = COLUMNS.index("posted_at")


def month_start(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def counting_months(rows: Iterator[tuple], months: Counter) -> Iterator[tuple]:
    """The rows, counting the landed posts per UTC month of posted_at (what the enrichment will work on)."""
    for row in rows:
        if row[1] is not None:
            months[month_start(row[1][_POSTED_AT])] += 1
        yield row


def _bounds(month: date) -> tuple[datetime, datetime]:
    """The posted_at range of a UTC month: PostgreSQL scans only that month's partition of raw.social_post."""
    low = datetime(month.year, month.month, 1, tzinfo=UTC)
    high = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return low, high


def record_months(conn, load_id: int, months: dict[date, int]) -> None:
    """At landing, in the load's transaction: the months its posts fall in, waiting for enrichment."""
    with conn.cursor().copy("copy ops.social_enrichment (load_id, month, posts) from stdin") as copy:
        for month, posts in sorted(months.items()):
            copy.write_row((load_id, month, posts))


def pending_months(wh: warehouse.Warehouse | None = None) -> dict[str, int]:
    """Month (ISO date) -> posts waiting for enrichment, oldest month first."""
    with warehouse.connect(wh) as conn:
        rows = conn.execute(
            "select month, sum(posts) from ops.social_enrichment where enriched_at is null group by month"
            " order by month"
        ).fetchall()
    return {month.isoformat(): int(posts) for month, posts in rows}


def enrichment_parts(wh: warehouse.Warehouse | None = None, parts: int = ENRICHMENT_PARTS) -> list[list[str]]:
    """The pending months in at most `parts` lists of about equal posts (largest month first into the
    lightest part); no list when nothing waits, so a mapped task over them is skipped."""
    months = pending_months(wh)
    groups: list[list[str]] = [[] for _ in range(min(parts, len(months)))]
    weights = [0] * len(groups)
    for month, posts in sorted(months.items(), key=lambda item: -item[1]):
        lightest = weights.index(min(weights))
        groups[lightest].append(month)
        weights[lightest] += posts
    return [sorted(group) for group in groups]


_COPY_TYPES = ("bigint", "integer", "text", "boolean", "double precision", "integer[]")


def enrich_month(
    month: str, wh: warehouse.Warehouse | None = None, enricher: Enricher | None = None
) -> dict[str, int | str]:
    """Enrich the posts of `month` (ISO date of its first day) of every load still waiting; idempotent."""
    wh = wh or warehouse.current()
    enricher = enricher or Enricher()
    first_day = date.fromisoformat(month)
    low, high = _bounds(first_day)
    posts = changed = 0
    with warehouse.connect(wh) as conn, conn.transaction():
        # the month's rows, locked: a second enrichment of the same month waits, then finds nothing to do
        loads = [
            row[0]
            for row in conn.execute(
                "select load_id from ops.social_enrichment where month = %s and enriched_at is null"
                " order by load_id for update",
                (first_day,),
            )
        ]
        if not loads:
            return {"month": month, "posts": 0, "changed": 0}
        conn.execute(
            "create temp table social_enriched (load_id bigint, source_row integer, language text,"
            " language_detected boolean, sentiment double precision, sdgs integer[]) on commit drop"
        )
        reader = conn.cursor(name=f"social_month_{first_day:%Y_%m}")  # server-side: memory flat for any month
        reader.execute(
            "select _load_id, _source_row, source_language, text, hashtags from raw.social_post"
            " where posted_at >= %s and posted_at < %s and _load_id = any(%s)",
            (low, high, loads),
        )
        while batch := reader.fetchmany(FETCH_POSTS):
            posts += len(batch)
            rows = []
            for load_id, source_row, source_language, text, hashtags in batch:
                language, detected, sentiment, sdgs = enricher.enrichment(source_language, text, hashtags)
                # landed rows hold the source's language, no sentiment, no SDGs: write only what differs
                if detected or sentiment is not None or sdgs:
                    rows.append((load_id, source_row, language, detected, sentiment, sdgs))
            changed += len(rows)
            cursor = conn.cursor()
            register_binary_dumpers(cursor)
            with cursor.copy("copy social_enriched from stdin (format binary)") as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        reader.close()
        if changed:
            conn.execute(
                "update raw.social_post as p set language = e.language, language_detected = e.language_detected,"
                " sentiment = e.sentiment, sdgs = e.sdgs from social_enriched as e"
                " where p.posted_at >= %s and p.posted_at < %s and p._load_id = e.load_id"
                " and p._source_row = e.source_row",
                (low, high),
            )
        # each load's own count of changed rows, for ops
        conn.execute(
            "update ops.social_enrichment as s set enriched_at = clock_timestamp(),"
            " posts_changed = (select count(*) from social_enriched as e where e.load_id = s.load_id)"
            " where s.month = %s and s.load_id = any(%s)",
            (first_day, loads),
        )
    return {"month": month, "posts": posts, "changed": changed}


def publish_enriched(wh: warehouse.Warehouse | None = None) -> list[int]:
    """Give every social load whose months are all enriched its commit_seq, in load order, stopping at the
    first load still waiting (so loads reach builds in the order they landed); the loads published."""
    with warehouse.connect(wh) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (COMMIT_ORDER_LOCK,))
        waiting = conn.execute(
            "select l.load_id, exists (select from ops.social_enrichment as e"
            "   where e.load_id = l.load_id and e.enriched_at is null)"
            " from ops.load_run as l where l.source_kind = 'social' and l.status = 'succeeded'"
            " and l.commit_seq is null order by l.load_id"
        ).fetchall()
        published = []
        for load_id, pending in waiting:
            if pending:
                break
            conn.execute(
                "update ops.load_run set commit_seq = nextval('ops.load_commit_seq') where load_id = %s", (load_id,)
            )
            published.append(load_id)
    return published


def _tally(results, progress: Callable | None) -> dict[str, int]:
    """Totals of enrich_month results as they come, with a progress line per month."""
    started = time.monotonic()
    totals = {"months": 0, "posts": 0, "changed": 0}
    for result in results:
        totals["months"] += 1
        totals["posts"] += int(result["posts"])
        totals["changed"] += int(result["changed"])
        if progress:
            rate = totals["posts"] / max(time.monotonic() - started, 1e-9)
            progress(f"  social enrichment: {result['month'][:7]} {result['posts']:,} posts ({rate:,.0f} posts/s)")
    return totals


def enrich_months(months: list[str], wh: warehouse.Warehouse | None = None, progress: Callable | None = print) -> dict:
    """Enrich these months in this process (one Airflow task's part); totals for the task's XCom."""
    enricher = Enricher()
    return _tally((enrich_month(month, wh, enricher) for month in months), progress)


_worker_wh: warehouse.Warehouse | None = None
_worker_enricher: Enricher | None = None


def _start_worker(wh: warehouse.Warehouse, enricher: Enricher) -> None:
    global _worker_wh, _worker_enricher
    _worker_wh, _worker_enricher = wh, enricher


def _enrich_in_worker(months: list[str]) -> list[dict]:
    return [enrich_month(month, _worker_wh, _worker_enricher) for month in months]


def enrich_pending(
    wh: warehouse.Warehouse | None = None, workers: int | None = None, progress: Callable | None = print
) -> dict:
    """Enrich every waiting month, then publish the loads that are complete: what `cstrack load social` and
    `cstrack refresh --no-airflow` run after landing. `workers`: forked processes, one month each at a time
    (by default one per idle core when more than one month waits and there are many posts)."""
    wh = wh or warehouse.current()
    months = pending_months(wh)
    if workers is None:
        workers = pool.default_workers(sum(months.values()), PARALLEL_FROM_POSTS, 2) if len(months) > 1 else 0
    enricher = Enricher()
    if workers > 1:
        enricher.vader, enricher.keywords  # noqa: B018 -- built once, before the fork, not in every worker
        batches = pool.ordered_map(_enrich_in_worker, ([m] for m in months), workers, _start_worker, (wh, enricher))
        results = (result for batch in batches for result in batch)
    else:
        results = (enrich_month(month, wh, enricher) for month in months)
    totals = _tally(results, progress)
    totals["published_loads"] = len(publish_enriched(wh))
    return totals
