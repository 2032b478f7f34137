"""Build, validate, publish (write-audit-publish): dbt builds `marts_build`, the gates validate it, and one
transaction swaps it into `marts`. A failure anywhere leaves `marts` as it was.

A refresh costs what changed. After each publish, `marts_build` (the previous marts, renamed by the swap) is
brought up to the published state again: small tables are copied, incremental ones (`fct_social_post` and the
social aggregates) receive only the rows that changed. Its `refresh_info.build_state` records what it holds:
a fingerprint of the dbt project and migrations, and the newest load commit (`ops.load_run.commit_seq`) of each
source kind. The next build compares that with the warehouse:
- nothing to build on (first build, a failed build, `full_refresh`), the project changed, or a catalogue or
  crawl was loaded (project keys and every post's project link may change): full build, `dbt build --full-refresh`;
- otherwise only the models downstream of the survey and social sources that received loads, plus the
  operations marts and the indicator fact; the gates check the rows of those loads (raw) and the rebuilt
  tables, their incremental ones on the changed rows (marts).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from psycopg import sql

from cstrack import config, sources, warehouse
from cstrack.constants import BUILD_LOCK, BUILD_SCHEMA, PUBLISHED_SCHEMA, REPORTER_ROLE, committed_after
from cstrack.errors import CstrackError
from cstrack.quality import gates
from cstrack.transform import dbt

PUBLISHED = PUBLISHED_SCHEMA
BUILD = BUILD_SCHEMA


@dataclass
class Plan:
    full: bool
    reason: str
    since_commit_seq: int = 0  # rows of loads committed after this are new to the build schema
    changed: list[str] = field(default_factory=list)

    def dbt_args(self) -> list[str]:
        if self.full:
            return ["build", "--full-refresh"]
        selectors = [arg for source in self.changed for arg in dbt.selector(f"changed_{source}")]
        selectors += dbt.selector("always_rebuilt")
        # unit tests check the code, which has not changed since the last full build (same fingerprint); the
        # scope of the data tests is in ops.gate_scope, not in --vars (new vars make dbt parse everything again)
        return ["build", "--select", *selectors, "--exclude-resource-type", "unit_test"]


@contextmanager
def build_lock(wh: warehouse.Warehouse, wait: bool = True):
    """Two refreshes never interleave: the second waits (or, with wait=False, refuses)."""
    with warehouse.connect(wh, autocommit=True) as conn:
        if not conn.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK,)).fetchone()[0]:
            if not wait:
                raise CstrackError("another build is running on this warehouse; try again when it has finished")
            print("another build is running on this warehouse: waiting for it to finish", flush=True)
            conn.execute("select pg_advisory_lock(%s)", (BUILD_LOCK,))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (BUILD_LOCK,))


def project_fingerprint() -> str:
    """What the marts are built from besides data: dbt models, macros, seeds, snapshots, tests, migrations."""
    root = config.project_dir()
    digest = hashlib.sha256()
    files = [root / "dbt" / "dbt_project.yml"]
    for folder in ("dbt/models", "dbt/macros", "dbt/seeds", "dbt/snapshots", "dbt/tests", "plugins/cstrack/migrations"):
        files += sorted(p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def current_state(conn) -> dict:
    seq = {
        kind: conn.execute(
            "select coalesce(max(commit_seq), 0) from ops.load_run"
            " where status = 'succeeded' and source_kind = any(%s)",
            (list(kinds),),
        ).fetchone()[0]
        for kind, kinds in sources.dbt_sources().items()
    }
    return {"fingerprint": project_fingerprint(), "commit_seq": seq}


def build_state(conn, schema: str = BUILD) -> dict | None:
    """What `schema` holds (refresh_info.build_state), or None when it holds nothing a build can rely on."""
    exists = conn.execute(
        "select 1 from information_schema.columns where table_schema = %s and table_name = 'refresh_info'"
        " and column_name = 'build_state'",
        (schema,),
    ).fetchone()
    if not exists:
        return None
    row = conn.execute(sql.SQL("select build_state from {}.refresh_info").format(sql.Identifier(schema))).fetchone()
    return row[0] if row else None


def plan_build(previous: dict | None, current: dict, full_refresh: bool) -> Plan:
    if full_refresh:
        return Plan(True, "full refresh asked for")
    if previous is None:
        return Plan(True, f"no previous build state in {BUILD}")
    if previous["fingerprint"] != current["fingerprint"]:
        return Plan(True, "the dbt project or the migrations changed since the last build")
    changed = [k for k in sources.dbt_sources() if current["commit_seq"][k] != previous["commit_seq"].get(k)]
    rebuild_all = [s.kind for s in sources.SOURCES if s.full_rebuild and s.dbt_source in changed]
    if rebuild_all:
        return Plan(True, f"{' or '.join(rebuild_all)} loads arrived (project keys and post links may change)")
    since = max(previous["commit_seq"].values())
    return Plan(False, f"incremental: new loads of {', '.join(changed) or 'no source'}", since, changed)


def build(
    wh: warehouse.Warehouse | None = None, full_refresh: bool = False, prepare_next: bool = True
) -> dict[str, int]:
    """dbt build into marts_build, quality gates, publish; returns published table -> row count.

    `full_refresh` rebuilds everything from scratch, incremental models included (`dbt build --full-refresh`).
    `prepare_next=False` skips bringing marts_build up to the published marts after the publish (minutes at
    10^7 posts), for a build no other follows soon (a benchmark's last): the next build is then a full one."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    with build_lock(wh):
        with warehouse.connect(wh) as conn:
            current = current_state(conn)
            plan = plan_build(build_state(conn), current, full_refresh)
            if plan.full:
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(BUILD)))
            else:  # from here on the build schema is a candidate: a failed build leaves no state to build on
                conn.execute(sql.SQL("drop table {}.refresh_info").format(sql.Identifier(BUILD)))
            # what the gates' scoped assets read (expectations/gx: rows of loads after this commit)
            conn.execute("update ops.gate_scope set since_commit_seq = %s", (plan.since_commit_seq,))
        print(f"build plan: {'full build' if plan.full else 'incremental build'} ({plan.reason})", flush=True)
        raw_tables = None if plan.full else {t for source in plan.changed for t in sources.raw_tables(source)}
        # the raw gate reads raw while dbt (a process of its own) builds marts_build: neither waits for the other,
        # and nothing is published unless both succeed (leaving the block waits for the gate, even after an error)
        with ThreadPoolExecutor(max_workers=1) as beside:
            raw_gate = beside.submit(_raw_gate, wh, raw_tables)
            if plan.full:  # incremental builds follow new loads, which are fresh; a full build checks every source
                with _step("checking source freshness"):
                    dbt.run_dbt(["source", "freshness"], wh, marts_schema=BUILD)  # warns past 45 days, never stops
            with _step(f"building marts into {BUILD} with dbt"):
                dbt.run_dbt(plan.dbt_args(), wh, marts_schema=BUILD)
            raw_gate.result()
        rebuilt = None if plan.full else dbt.built_tables()
        with _step("validating the candidate marts (quality gate)"):
            gates.validate_marts(wh, rebuilt)
        with _step("publishing"):
            counts = publish(wh, current)
        if prepare_next:
            with _step(f"bringing {BUILD} up to the published marts for the next incremental build"):
                catch_up(wh, current, rebuilt)
    print(f"published {', '.join(f'{t} ({n} rows)' for t, n in counts.items())}", flush=True)
    return counts


def _raw_gate(wh: warehouse.Warehouse, tables: set[str] | None) -> None:
    with _step("validating raw (quality gate)" + ("" if tables is None else " on the new loads")):
        gates.validate_raw(wh, tables)


@contextmanager
def _step(what: str):
    """Progress of a long build: what starts, and how long it took."""
    print(what, flush=True)
    started = time.perf_counter()
    yield
    print(f"  ({what.split(' (')[0]}: {time.perf_counter() - started:.1f} s)", flush=True)


def _tables(conn, schema: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'"
            " and table_name <> 'refresh_info' order by 1",
            (schema,),
        )
    ]


def _write_refresh_info(conn, schema: str, counts: dict, state: dict, published_at=None) -> None:
    """What the report and dashboards show as "last published", and what the schema holds for the next build."""
    ident = sql.Identifier(schema)
    conn.execute(sql.SQL("drop table if exists {}.refresh_info").format(ident))
    conn.execute(
        sql.SQL(
            "create table {}.refresh_info as select coalesce(%s, now()) as published_at, %s::jsonb as table_rows,"
            " %s::jsonb as build_state"
        ).format(ident),
        (published_at, json.dumps(counts), json.dumps(state)),
    )
    conn.execute(sql.SQL("grant select on {}.refresh_info to {}").format(ident, sql.Identifier(REPORTER_ROLE)))


def publish(wh: warehouse.Warehouse, state: dict | None = None) -> dict[str, int]:
    """Swap marts_build and marts in one transaction; readers see the old or the new marts, never a mix."""
    with warehouse.connect(wh) as conn:
        tables = _tables(conn, BUILD)
        if not tables:
            raise CstrackError(f"nothing to publish: schema {BUILD} holds no tables")
        counts = {
            t: conn.execute(
                sql.SQL("select count(*) from {}.{}").format(sql.Identifier(BUILD), sql.Identifier(t))
            ).fetchone()[0]
            for t in tables
        }
        with conn.transaction():
            _write_refresh_info(conn, BUILD, counts, state or current_state(conn))
            conn.execute(
                sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(BUILD), sql.Identifier(REPORTER_ROLE))
            )
            exists = conn.execute("select 1 from pg_namespace where nspname = %s", (PUBLISHED,)).fetchone()
            if exists:
                conn.execute(sql.SQL("alter schema {} rename to marts_previous").format(sql.Identifier(PUBLISHED)))
            conn.execute(
                sql.SQL("alter schema {} rename to {}").format(sql.Identifier(BUILD), sql.Identifier(PUBLISHED))
            )
            if exists:  # the previous marts become the next build's starting point
                conn.execute(sql.SQL("alter schema marts_previous rename to {}").format(sql.Identifier(BUILD)))
                conn.execute(
                    sql.SQL("revoke usage on schema {} from {}").format(
                        sql.Identifier(BUILD), sql.Identifier(REPORTER_ROLE)
                    )
                )
                conn.execute(sql.SQL("drop table {}.refresh_info").format(sql.Identifier(BUILD)))
            conn.execute("insert into ops.publish (tables) values (%s)", (json.dumps(counts),))
    return counts


def catch_up(wh: warehouse.Warehouse, state: dict, rebuilt: set[str] | None = None) -> None:
    """Make marts_build equal to the published marts again, copying only what changed where it can.

    `rebuilt`: the tables the last build rebuilt (None: all); the others are the same in both schemas.
    Incremental marts (dbt `unique_key` and a `last_commit_seq` column) receive the rows of the keys that the
    last build rebuilt; other tables are copied whole (they are small: aggregates, projects, indicators)."""
    keys = dbt.incremental_keys()
    with warehouse.connect(wh) as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(BUILD)))
        published, candidates = _tables(conn, PUBLISHED), set(_tables(conn, BUILD))
        for table in candidates - set(published):
            conn.execute(sql.SQL("drop table {}.{} cascade").format(sql.Identifier(BUILD), sql.Identifier(table)))
        for table in published:
            if rebuilt is not None and table not in rebuilt and table in candidates:
                continue
            src, dst = (sql.Identifier(PUBLISHED, table), sql.Identifier(BUILD, table))
            columns = _columns(conn, PUBLISHED, table)
            column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
            if table in candidates and _columns(conn, BUILD, table) == columns and table in keys:
                key = sql.SQL(", ").join(map(sql.Identifier, keys[table]))
                newer = committed_after("(select coalesce(max(last_commit_seq), 0) from {})")
                changed = sql.SQL("({}) in (select {} from {} where " + newer + ")").format(key, key, src, dst)
                conn.execute(sql.SQL("delete from {} where {}").format(dst, changed))
                if not _is_row_key(conn, PUBLISHED, table, keys[table]):
                    # a group key (a month) has no rows left when all its posts moved to another group
                    conn.execute(sql.SQL(
                        "delete from {} where ({}) in (select {} from {} except select {} from {})"
                    ).format(dst, key, key, dst, key, src))  # fmt: skip
                conn.execute(
                    sql.SQL("insert into {} ({}) select {} from {} where {}").format(
                        dst, column_list, column_list, src, changed
                    )
                )
                _add_missing_indexes(conn, table)
                continue  # a few rows: the statistics stay good enough
            elif table in candidates and _columns(conn, BUILD, table) == columns:
                conn.execute(sql.SQL("truncate {}").format(dst))
                conn.execute(
                    sql.SQL("insert into {} ({}) select {} from {}").format(dst, column_list, column_list, src)
                )
            else:
                conn.execute(sql.SQL("drop table if exists {} cascade").format(dst))
                conn.execute(sql.SQL("create table {} (like {} including all excluding indexes)").format(dst, src))
                conn.execute(
                    sql.SQL("insert into {} ({}) select {} from {}").format(dst, column_list, column_list, src)
                )
                conn.execute(sql.SQL("grant select on {} to {}").format(dst, sql.Identifier(REPORTER_ROLE)))
            # indexes after the rows: building one is faster than maintaining it row by row
            _add_missing_indexes(conn, table)
            conn.execute(sql.SQL("analyze {}").format(dst))
        row = conn.execute("select published_at, table_rows from marts.refresh_info").fetchone()
        _write_refresh_info(conn, BUILD, row[1], state, published_at=row[0])  # last: only a complete copy counts


def _add_missing_indexes(conn, table: str) -> None:
    """Create in the build schema each index of the published table that its copy lacks: a new table, or one
    built before its model gained an index (the first build after such a change is a full one, which leaves
    the previous marts, without it, as the next build's starting point)."""

    def definitions(schema: str) -> dict[str, str]:
        """index definition without its name and table -> the definition, e.g. 'CREATE INDEX|USING btree (month)'"""
        found = {}
        for (definition,) in conn.execute(
            "select indexdef from pg_indexes where schemaname = %s and tablename = %s", (schema, table)
        ):
            match = re.match(r'(CREATE (?:UNIQUE )?INDEX) (?:"[^"]+"|\S+) ON (?:ONLY )?\S+ (USING .*)', definition)
            if match:
                found["|".join(match.groups())] = match.group(2)
        return found

    present = definitions(BUILD)
    for key, method_and_columns in definitions(PUBLISHED).items():
        if key not in present:
            conn.execute(
                sql.SQL("{} on {} {}").format(
                    sql.SQL(key.split("|")[0].lower()), sql.Identifier(BUILD, table), sql.SQL(method_and_columns)
                )
            )


def _is_row_key(conn, schema: str, table: str, key: list[str]) -> bool:
    """Whether `key` identifies rows (a unique index or primary key on exactly its columns), not groups."""
    return conn.execute(
        "select exists (select from pg_index i where i.indrelid = format('%%I.%%I', %s::text, %s::text)::regclass"
        " and i.indisunique and array(select a.attname::text from pg_attribute a where a.attrelid = i.indrelid"
        ' and a.attnum = any(i.indkey) order by a.attname::text collate "C") = %s::text[])',
        (schema, table, sorted(key)),
    ).fetchone()[0]


def _columns(conn, schema: str, table: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (schema, table),
        )
    ]
