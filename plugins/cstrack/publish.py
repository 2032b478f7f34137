"""Build, validate, publish (write-audit-publish): dbt builds `marts_build`, the gate validates it,
and one transaction swaps it into `marts`. A failure anywhere leaves `marts` as it was.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from psycopg import sql

from cstrack import quality, transform, warehouse
from cstrack.errors import CstrackError

PUBLISHED = "marts"
BUILD = transform.BUILD_SCHEMA
_BUILD_LOCK = 7_300_002  # advisory lock key: one build/publish at a time per database


@contextmanager
def build_lock(wh: warehouse.Warehouse, wait: bool = True):
    """Two refreshes never interleave: the second waits (or, with wait=False, refuses)."""
    with warehouse.connect(wh, autocommit=True) as conn:
        if not conn.execute("select pg_try_advisory_lock(%s)", (_BUILD_LOCK,)).fetchone()[0]:
            if not wait:
                raise CstrackError("another build is running on this warehouse; try again when it has finished")
            print("another build is running on this warehouse: waiting for it to finish", flush=True)
            conn.execute("select pg_advisory_lock(%s)", (_BUILD_LOCK,))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_BUILD_LOCK,))


def build(wh: warehouse.Warehouse | None = None, full_refresh: bool = False) -> dict[str, int]:
    """dbt build into marts_build, quality gate, publish; returns published table -> row count.

    `full_refresh` rebuilds incremental models from scratch (`dbt build --full-refresh`)."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    with build_lock(wh):
        print("validating raw (quality gate) and its freshness", flush=True)
        quality.validate_raw(wh)
        transform.run_dbt(["source", "freshness"], wh, marts_schema=BUILD)  # warns past 45 days, never stops
        with warehouse.connect(wh) as conn:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(BUILD)))
        print(f"building marts into {BUILD} with dbt", flush=True)
        transform.run_dbt(["build", *(["--full-refresh"] if full_refresh else [])], wh, marts_schema=BUILD)
        print("validating the candidate marts (quality gate)", flush=True)
        quality.validate_marts(wh)
        counts = publish(wh)
    print(f"published {', '.join(f'{t} ({n} rows)' for t, n in counts.items())}", flush=True)
    return counts


def publish(wh: warehouse.Warehouse) -> dict[str, int]:
    """Swap marts_build into marts in one transaction; readers see the old or the new marts, never a mix."""
    with warehouse.connect(wh) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1", (BUILD,)
            )
        ]
        if not tables:
            raise CstrackError(f"nothing to publish: schema {BUILD} holds no tables")
        counts = {
            t: conn.execute(sql.SQL("select count(*) from {}.{}").format(sql.Identifier(BUILD), sql.Identifier(t))).fetchone()[0]
            for t in tables
        }
        with conn.transaction():
            # what the report and dashboards show as "last published", readable by the reporter role
            conn.execute(
                sql.SQL("create table {}.refresh_info as select now() as published_at, %s::jsonb as table_rows").format(
                    sql.Identifier(BUILD)
                ),
                (json.dumps(counts),),
            )
            conn.execute(sql.SQL("grant select on {}.refresh_info to cstrack_reporter").format(sql.Identifier(BUILD)))
            conn.execute(sql.SQL("grant usage on schema {} to cstrack_reporter").format(sql.Identifier(BUILD)))
            conn.execute("drop schema if exists marts_old cascade")
            exists = conn.execute("select 1 from pg_namespace where nspname = %s", (PUBLISHED,)).fetchone()
            if exists:
                conn.execute(sql.SQL("alter schema {} rename to marts_old").format(sql.Identifier(PUBLISHED)))
            conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(BUILD), sql.Identifier(PUBLISHED)))
            conn.execute("insert into ops.publish (tables) values (%s)", (json.dumps(counts),))
        conn.execute("drop schema if exists marts_old cascade")
    return counts
