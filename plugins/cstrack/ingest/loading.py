"""The one way rows land in `raw`: COPY inside a single transaction with their `ops.load_run`.

Everything a load writes (its load_run, its rows, its quarantine, its unmapped values) commits
together, so a load killed half-way leaves nothing visible, and a re-run starts clean. A failure is
recorded afterwards in its own transaction. A file whose content was already loaded by the same
mapping is skipped: loads are idempotent.
"""

from __future__ import annotations

import json
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

import psycopg
from psycopg import postgres
from psycopg._copy_base import format_row_binary  # the encoder of Copy.write_row, for rows encoded by workers
from psycopg.adapt import AdaptersMap, Dumper, Transformer
from psycopg.copy import QueuedLibpqWriter
from psycopg.pq import Format

from cstrack import warehouse
from cstrack.constants import COMMIT_ORDER_LOCK
from cstrack.errors import CstrackError
from cstrack.ingest.parsing import file_sha256

PROGRESS_EVERY = 50_000


@dataclass
class LoadResult:
    load_id: int
    kind: str
    source_system: str
    source_file: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return (
                f"{self.kind} {self.source_system}: {self.source_file} already loaded (load {self.load_id}, "
                f"{self.rows_loaded} rows): nothing to do"
            )
        return (
            f"{self.kind} {self.source_system}: {self.source_file}: read {self.rows_read}, "
            f"loaded {self.rows_loaded}, quarantined {self.rows_quarantined} (load {self.load_id})"
        )


def print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RawTable:
    """Where a load's rows go. `column_types` (the PostgreSQL types of `columns`), when given, makes the COPY
    binary: about twice as fast for wide rows, but every value must then be of its column's type; a json or
    jsonb value may then also be bytes, JSON the caller encoded already (json.dumps(...).encode()), sent as it
    is. `duplicate_key` (a column), when given, keeps the first row of each key by `_source_row` and moves the
    later ones to ops.quarantine, in the database and in the load's transaction (the loader keeps no per-row
    state); the table's unique constraint on the key must be deferrable."""

    name: str
    columns: tuple[str, ...]
    column_types: tuple[str, ...] | None = None
    duplicate_key: str | None = None


class NotEncodable(Exception):
    """Input that workers cannot encode in parts: Load sends it row by row instead (`EncodedInput.rows`)."""


@dataclass
class EncodedRows:
    """Rows encoded for a binary COPY (BinaryRowEncoder), sent as they are: how many rows were read and loaded
    with them, and the rows to quarantine, (_source or None for the load's file, row number, field, reason, raw
    value)."""

    data: bytes
    read: int
    loaded: int
    rejected: list[tuple]


BLOCK_BYTES = 1 << 17  # the COPY writer's queue holds 64 blocks: 8 MiB at most


def encoded_blocks(
    rows: Iterable[tuple], encoder: BinaryRowEncoder, load_id: int, source: str, to_values=None, block_bytes=BLOCK_BYTES
) -> Iterator[EncodedRows]:
    """Rows as Load.run takes them, encoded in blocks of about `block_bytes` (None: one block)."""
    out = bytearray()
    read = loaded = 0
    rejected: list[tuple] = []
    for number, values, reason, field, raw_value, *row_source in rows:
        read += 1
        if values is None:
            rejected.append((row_source[0] if row_source else None, number, field, reason, raw_value))
            continue
        values = to_values(values) if to_values else values
        encoder.encode((load_id, row_source[0] if row_source else source, number) + values, out)
        loaded += 1
        if block_bytes and len(out) >= block_bytes:
            yield EncodedRows(bytes(out), read, loaded, rejected)
            out, read, loaded, rejected = bytearray(), 0, 0, []
    yield EncodedRows(bytes(out), read, loaded, rejected)


@dataclass
class EncodedInput:
    """A load's rows encoded by worker processes: `blocks(load_id, source_file)` yields them in parts; where it
    raises NotEncodable, the load starts again from `rows()`, the same rows one at a time."""

    blocks: Callable[[int, str], Iterator[EncodedRows]]
    rows: Callable[[], Iterable[tuple]]


class BinaryRowEncoder:
    """Rows of a RawTable with column_types, encoded for its binary COPY (provenance columns first) exactly as
    Load sends them; also in a worker process, which has no connection."""

    def __init__(self, into: RawTable, context=None):
        """`context`: a cursor with register_binary_dumpers, else psycopg's default adapters and those dumpers."""
        if context is None:
            context = _Adaptation(AdaptersMap(psycopg.adapters))
            register_binary_dumpers(context)
        self.transformer = Transformer(context)
        types = ("bigint", "text", "integer") + tuple(into.column_types or ())
        self.transformer.set_dumper_types([context.adapters.types.get_oid(t) for t in types], Format.BINARY)

    def encode(self, row: tuple, out: bytearray) -> None:
        format_row_binary(row, self.transformer, out)


@dataclass
class _Adaptation:
    """What psycopg's Transformer needs to adapt values without a connection."""

    adapters: AdaptersMap
    connection: None = None


_BINARY_COPY_HEADER = b"PGCOPY\n\xff\r\n\0" + b"\0\0\0\0" + b"\0\0\0\0"  # signature, flags, no extension
_BINARY_COPY_TRAILER = b"\xff\xff"


@dataclass
class Load:
    """One load of one source's content into raw, in one transaction, step by step: skip content already
    loaded by the same definition; open its ops.load_run; COPY the rows; quarantine duplicates; write the
    companion tables, the quarantine and the unmapped values; take the next commit_seq and commit.

    Content not in one file (a crawl's stored pages) gives `content_hash` and a `source_file` label instead of
    `path`. A `snapshot` source replaces its previous load: any new content loads, not only unseen content.
    A `held` load commits without a commit_seq, so builds do not see it until a later step gives it one (social
    posts: after their enrichment, see social/enrich.py)."""

    kind: str
    source_system: str
    definition_hash: str
    path: Path | None = None
    content_hash: str | None = None
    source_file: str | None = None
    snapshot: bool = False
    held: bool = False

    def __post_init__(self) -> None:
        self.content_hash = self.content_hash or file_sha256(self.path)
        self.source_file = self.source_file or str(self.path)

    def run(
        self,
        into: RawTable,
        rows: Iterable[tuple],
        *,
        to_values: Callable[[tuple], tuple] | None = None,
        unmapped: Counter | None = None,
        after_copy: Callable[..., None] | None = None,
        wh: warehouse.Warehouse | None = None,
        progress: Callable[[str], None] | None = print_progress,
    ) -> LoadResult:
        """Stream `rows` into `into`.

        `rows` yields (row_number, values, reason, field, raw_value): values for a good row (`to_values` turns
        them into the table's columns), or None and the reason for a row to quarantine; a sixth element, when
        there, is the row's own `_source` (e.g. the page URL). Provenance columns (_load_id, _source,
        _source_row) are added here. `after_copy(conn, load_id)` writes companion tables in the same transaction.
        """
        wh = wh or warehouse.current()
        with warehouse.connect(wh) as conn:
            try:
                with conn.transaction():
                    # one loader per source at a time; the second waits, then sees the first's load_run
                    conn.execute(
                        "select pg_advisory_xact_lock(hashtext(%s))", (f"load:{self.kind}:{self.source_system}",)
                    )
                    previous = self._already_loaded(conn)
                    if previous is not None:
                        return previous
                    load_id = self._open(conn)
                    read, loaded, rejected = self._copy(conn, load_id, into, rows, to_values, progress)
                    duplicates = (
                        _quarantine_duplicates(conn, into.name, into.duplicate_key, load_id)
                        if into.duplicate_key
                        else 0
                    )
                    if after_copy is not None:
                        after_copy(conn, load_id)
                    self._write_quarantine(conn, rejected)
                    self._write_unmapped(conn, load_id, unmapped)
                    return self._commit(conn, load_id, read, loaded - duplicates, len(rejected) + duplicates)
            except Exception as exc:
                self._record_failure(wh, exc)
                raise

    def _result(self, load_id: int, read: int, loaded: int, quarantined: int, skipped: bool = False) -> LoadResult:
        return LoadResult(load_id, self.kind, self.source_system, self.source_file, read, loaded, quarantined, skipped)

    def _already_loaded(self, conn) -> LoadResult | None:
        done = conn.execute(
            "select load_id, rows_read, rows_loaded, rows_quarantined, content_hash, mapping_hash"
            " from ops.load_run where source_kind = %s and source_system = %s and status = 'succeeded'"
            " and (%s or (content_hash = %s and mapping_hash = %s)) order by load_id desc limit 1",
            (self.kind, self.source_system, self.snapshot, self.content_hash, self.definition_hash),
        ).fetchone()
        if done and done[4:] == (self.content_hash, self.definition_hash):
            return self._result(*done[:4], skipped=True)
        return None

    def _open(self, conn) -> int:
        return conn.execute(
            "insert into ops.load_run (source_kind, source_system, source_file, content_hash, mapping_hash, status)"
            " values (%s, %s, %s, %s, %s, 'running') returning load_id",
            (self.kind, self.source_system, self.source_file, self.content_hash, self.definition_hash),
        ).fetchone()[0]

    def _copy(self, conn, load_id: int, into: RawTable, rows, to_values, progress) -> tuple[int, int, list[tuple]]:
        """COPY the good rows; (rows read, rows copied, the rows to quarantine)."""
        if into.duplicate_key:
            conn.execute("set constraints all deferred")
        if isinstance(rows, EncodedInput):
            try:
                with conn.transaction():  # a savepoint: what the workers decline goes row by row from the start
                    return self._copy_blocks(conn, load_id, into, rows.blocks(load_id, self.source_file), progress)
            except NotEncodable:
                rows = rows.rows()
        if into.column_types:  # encoded here a block at a time: Copy.write_row costs more per row than encoding it
            cursor = conn.cursor()
            register_binary_dumpers(cursor)
            blocks = encoded_blocks(rows, BinaryRowEncoder(into, cursor), load_id, self.source_file, to_values)
            return self._copy_blocks(conn, load_id, into, blocks, progress)
        read = loaded = 0
        rejected: list[tuple] = []
        started = time.monotonic()
        cols = ", ".join(("_load_id", "_source", "_source_row") + into.columns)
        cursor = conn.cursor()
        # a writer thread sends the data (libpq releases the GIL) while this thread keeps building rows
        with cursor.copy(f"copy {into.name} ({cols}) from stdin", writer=_QueuedWriter(cursor)) as copy:
            for number, values, reason, field, raw_value, *row_source in rows:
                read += 1
                source = row_source[0] if row_source else self.source_file
                if values is None:
                    rejected.append((load_id, source, number, field, reason, raw_value))
                else:
                    copy.write_row((load_id, source, number) + (to_values(values) if to_values else values))
                    loaded += 1
                if progress and read % PROGRESS_EVERY == 0:
                    self._progress(progress, read, len(rejected), started)
        return read, loaded, rejected

    def _copy_blocks(self, conn, load_id: int, into: RawTable, blocks, progress) -> tuple[int, int, list[tuple]]:
        """COPY rows encoded for a binary COPY, EncodedRows blocks (_copy's result)."""
        read = loaded = 0
        rejected: list[tuple] = []
        started, reported = time.monotonic(), 0
        cursor = conn.cursor()
        cols = ", ".join(("_load_id", "_source", "_source_row") + into.columns)
        # a writer thread sends the data (libpq releases the GIL) while this thread encodes the next block
        with cursor.copy(f"copy {into.name} ({cols}) from stdin (format binary)", writer=_QueuedWriter(cursor)) as copy:
            copy.write(_BINARY_COPY_HEADER)
            for block in blocks:
                copy.write(block.data)
                read, loaded = read + block.read, loaded + block.loaded
                rejected += [(load_id, source or self.source_file, *rest) for source, *rest in block.rejected]
                if progress and read // PROGRESS_EVERY > reported:
                    reported = read // PROGRESS_EVERY
                    self._progress(progress, read, len(rejected), started)
            copy.write(_BINARY_COPY_TRAILER)  # written in blocks, the trailer is the writer's (psycopg's rule)
        return read, loaded, rejected

    def _progress(self, progress: Callable[[str], None], read: int, rejected: int, started: float) -> None:
        rate = read / max(time.monotonic() - started, 1e-9)
        progress(f"  {self.source_system}: {read:,} rows read ({rate:,.0f}/s), {rejected:,} quarantined")

    @staticmethod
    def _write_quarantine(conn, rejected: list[tuple]) -> None:
        if rejected:
            with conn.cursor().copy(
                "copy ops.quarantine (load_id, source_file, source_row, field, reason, raw_value) from stdin"
            ) as copy:
                for row in rejected:
                    copy.write_row(row)

    def _write_unmapped(self, conn, load_id: int, unmapped: Counter | None) -> None:
        if unmapped:
            with conn.cursor().copy(
                "copy ops.unmapped_values (load_id, source_system, field, value, n) from stdin"
            ) as copy:
                for (field, value), n in unmapped.items():
                    copy.write_row((load_id, self.source_system, field, value, n))

    def _commit(self, conn, load_id: int, read: int, loaded: int, quarantined: int) -> LoadResult:
        # commit order: the lock is held until this transaction commits (see migration 0006)
        conn.execute("select pg_advisory_xact_lock(%s)", (COMMIT_ORDER_LOCK,))
        commit_seq = "null" if self.held else "nextval('ops.load_commit_seq')"
        conn.execute(
            "update ops.load_run set status = 'succeeded', rows_read = %s, rows_loaded = %s,"
            f" rows_quarantined = %s, finished_at = clock_timestamp(), commit_seq = {commit_seq} where load_id = %s",
            (read, loaded, quarantined, load_id),
        )
        return self._result(load_id, read, loaded, quarantined)

    def _record_failure(self, wh, exc: Exception) -> None:
        """A failed load in its own transaction (the load's own rolled back)."""
        try:
            with warehouse.connect(wh) as conn:
                conn.execute(
                    "insert into ops.load_run (source_kind, source_system, source_file, content_hash, mapping_hash,"
                    " status, message, finished_at) values (%s, %s, %s, %s, %s, 'failed', %s, now())",
                    (self.kind, self.source_system, self.source_file, self.content_hash, self.definition_hash,
                     str(exc)[:2000]),
                )  # fmt: skip
        except Exception:  # noqa: BLE001 -- the original error matters more than the bookkeeping
            pass


class _QueuedWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer with at most 64 buffers (about 2-8 MB) waiting instead of 1024: when the server
    is slower than the loader, a long queue only grows the loader's memory, which must stay flat."""

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue = Queue(maxsize=64)


class _JsonBinaryDumper(Dumper):
    """json in a binary COPY: bytes are JSON the caller encoded already; anything else goes through json.dumps."""

    format = Format.BINARY
    oid = postgres.types["json"].oid
    prefix = b""

    def dump(self, obj):
        if type(obj) is bytes:
            return self.prefix + obj
        return self.prefix + json.dumps(obj).encode()


class _JsonbBinaryDumper(_JsonBinaryDumper):
    oid = postgres.types["jsonb"].oid
    prefix = b"\x01"  # jsonb's binary format: a version byte, then the JSON text


_LENGTH = struct.Struct("!i")
_ARRAY_HEADER = struct.Struct("!iiiii")  # dimensions (1), has nulls, element type, length, lower bound (1)
_INT4_ITEM = struct.Struct("!ii")  # length (4), value
_NULL_ITEM = b"\xff\xff\xff\xff"  # length -1


class _FlatArrayBinaryDumper(Dumper):
    """A one-dimensional array in a binary COPY: psycopg's general array dumper is Python code that works out
    dimensions and element types value by value, a tenth of a social load's time. Subclasses encode the items."""

    format = Format.BINARY
    element_oid: int

    def __init__(self, cls, context=None):
        super().__init__(cls, context)
        self.empty = _ARRAY_HEADER.pack(0, 0, self.element_oid, 0, 0)[:12]  # no dimensions: the empty array

    def items(self, values: list) -> list[bytes]:
        raise NotImplementedError

    def dump(self, obj):
        if not obj:
            return self.empty
        return b"".join([_ARRAY_HEADER.pack(1, None in obj, self.element_oid, len(obj), 1), *self.items(obj)])


class _TextArrayBinaryDumper(_FlatArrayBinaryDumper):
    oid = postgres.types["text"].array_oid
    element_oid = postgres.types["text"].oid

    def items(self, values: list) -> list[bytes]:
        parts = []
        for value in values:
            if value is None:
                parts.append(_NULL_ITEM)
            else:
                encoded = value.encode()
                parts += (_LENGTH.pack(len(encoded)), encoded)
        return parts


class _Int4ArrayBinaryDumper(_FlatArrayBinaryDumper):
    oid = postgres.types["int4"].array_oid
    element_oid = postgres.types["int4"].oid

    def items(self, values: list) -> list[bytes]:
        return [_NULL_ITEM if value is None else _INT4_ITEM.pack(4, value) for value in values]


def register_binary_dumpers(cursor) -> None:
    """Binary COPY dumpers for json, jsonb, text[] and integer[] that are faster than psycopg's general ones."""
    for dumper in (_JsonBinaryDumper, _JsonbBinaryDumper, _TextArrayBinaryDumper, _Int4ArrayBinaryDumper):
        cursor.adapters.register_dumper(None, dumper)


# Python's repr() of an ordinary id ('x'; "it's" when it holds a single quote), as the reason texts written
# in Python show ids
_SQL_REPR = (
    "case when strpos({k}, '''') = 0 then '''' || {k} || ''''"
    " when strpos({k}, '\"') = 0 then '\"' || {k} || '\"'"
    " else '''' || replace({k}, '''', '\\''') || '''' end"
)


def _quarantine_duplicates(conn, table: str, key: str, load_id: int) -> int:
    """Move the 2nd and later rows of a key in this load (by _source_row) to ops.quarantine; their count.
    Only keys that occur more than once are ranked, so the cost is one pass over the load's key index."""
    cursor = conn.execute(
        f"""
        with repeated as (
            select {key} from {table} where _load_id = %(load)s group by {key} having count(*) > 1
        ), ranked as (
            select t.ctid as row_ctid, t.{key} as key, t._source_row,
                   row_number() over w as n, first_value(t._source_row) over w as first_row
            from {table} as t join repeated using ({key})
            where t._load_id = %(load)s
            window w as (partition by t.{key} order by t._source_row, t._source)
        ), gone as (
            delete from {table} as t using ranked as r
            where t._load_id = %(load)s and t.ctid = r.row_ctid and r.n > 1
            returning t._source, r._source_row, r.key, r.first_row
        )
        insert into ops.quarantine (load_id, source_file, source_row, field, reason, raw_value)
        select %(load)s, _source, _source_row, 'id',
               'duplicate id ' || {_SQL_REPR.format(k="key")} || ' (first at row ' || first_row || ')', key
        from gone""",
        {"load": load_id},
    )
    return cursor.rowcount


def definition_for(data_file: Path, definitions_dir: Path) -> Path | None:
    """The definition (mapping or codebook) whose name starts the file name, the longest first:
    `citizenscience_gov_2024.csv` -> citizenscience_gov.yml. The platform registry is not one."""
    for definition in sorted(definitions_dir.glob("*.yml"), key=lambda p: -len(p.stem)):
        if definition.stem == "platforms":
            continue
        if data_file.stem == definition.stem or data_file.stem.startswith(definition.stem + "_"):
            return definition
    return None


def load_inbox_folder(
    folder: Path, definitions_dir: Path, suffixes: set[str], load: Callable[[Path, Path], LoadResult], what: str
) -> list[LoadResult]:
    """Load every data file of `folder` through the definition named like it; a file already loaded is
    skipped by `load` itself (content hash), so a daily run loads each new file once."""
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in suffixes) if folder.is_dir() else []
    results = []
    for data_file in files:
        definition = definition_for(data_file, definitions_dir)
        if definition is None:
            raise CstrackError(f"{data_file}: no {what} in {definitions_dir} whose name starts the file name")
        result = load(definition, data_file)
        print(result.summary(), flush=True)
        results.append(result)
    return results
