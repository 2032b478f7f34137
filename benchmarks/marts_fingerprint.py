"""Row count and checksum of every published mart, to show a refactoring left the demo's output unchanged.

Columns that differ between any two runs by nature (timestamps, durations, load ids and commit sequence
numbers, run ids, the build state with its code fingerprint) are left out of the checksum, and so is the demo
sites' random port; the rows are hashed in a fixed order. Pseudonyms depend on the key: compare runs with the
same CSTRACK_PSEUDONYM_KEY.
Usage: CSTRACK_HOME=... python benchmarks/marts_fingerprint.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys

from psycopg import sql

from cstrack import warehouse

VOLATILE_TYPES = {"timestamp with time zone", "timestamp without time zone", "interval", "date"}
VOLATILE_NAMES = ("load_id", "commit_seq", "duration", "run_id", "seconds", "_at", "loaded", "refreshed", "build_state")


def fingerprint(wh: warehouse.Warehouse, schema: str = "marts") -> dict[str, dict]:
    out: dict[str, dict] = {}
    with warehouse.connect(wh) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s"
                " and table_type = 'BASE TABLE' order by 1",
                (schema,),
            )
        ]
        for table in tables:
            columns = [
                name
                for name, dtype in conn.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, table),
                )
                if dtype not in VOLATILE_TYPES and not any(v in name for v in VOLATILE_NAMES)
            ]
            rows = conn.execute(
                sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()[0]
            row_text = sql.SQL(
                "regexp_replace(concat_ws('|', {}), '127\\.0\\.0\\.1:[0-9]+', '127.0.0.1:PORT', 'g')"
            ).format(sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns))
            digest = conn.execute(
                sql.SQL(
                    "select md5(coalesce(string_agg(r, E'\\n' order by r), '')) from (select {} as r from {}.{}) t"
                ).format(row_text, sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()[0]
            out[table] = {"rows": rows, "md5": digest, "columns": len(columns)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the fingerprint to this file")
    parser.add_argument("--compare", help="compare with a fingerprint written earlier; exit 1 if they differ")
    args = parser.parse_args()
    result = fingerprint(warehouse.current())
    for table, f in result.items():
        print(f"{table:40} {f['rows']:>8} {f['md5']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1, sort_keys=True)
    if args.compare:
        with open(args.compare) as fh:
            before = json.load(fh)
        differ = sorted(t for t in set(before) | set(result) if before.get(t) != result.get(t))
        print("unchanged" if not differ else f"differ: {', '.join(differ)}")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
