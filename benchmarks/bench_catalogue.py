"""Catalogue mapping loader against raw COPY of the same rows, in one run (docs/design-notes.md §12).

The input is the bundled citizenscience.gov export (43 columns, messy statuses, multi-valued cells,
contact columns) repeated with fresh ids up to --rows. The baseline COPYs the same CSV file into a
table of text columns (what PostgreSQL does with no mapping at all), and a second baseline COPYs the
loader's own output rows into a twin of raw.catalogue_record (the storage cost: jsonb, primary key); the
loader reads it through
catalogues/citizenscience_gov.yml: validation, every rule, placeholders, pii split, provenance, COPY
of jsonb. Reported: rows per second of each and the ratios (target: loader >= 0.25 of COPY of the CSV).

    .venv/bin/python benchmarks/bench_catalogue.py --rows 100000
Uses WAREHOUSE_URL's server if set, else the PostgreSQL server on 127.0.0.1:5432 (a scratch database).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "data" / "sample" / "catalogues" / "citizenscience_gov.csv"
MAPPING = PROJECT / "catalogues" / "citizenscience_gov.yml"


def write_input(path: Path, rows: int) -> None:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        template = list(reader)
        header = reader.fieldnames
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        for i in range(rows):
            row = dict(template[i % len(template)])
            row["cartodb_id"] = str(i + 1)
            writer.writerow(row)


def copy_baseline(conninfo: str, path: Path) -> float:
    with path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{c}" text' for c in header)
    with psycopg.connect(conninfo) as conn:
        conn.execute(f"create table bench_copy ({columns})")
        started = time.perf_counter()
        with (
            conn.cursor().copy("copy bench_copy from stdin with (format csv, header true)") as copy,
            path.open("rb") as data,
        ):
            while block := data.read(1 << 20):
                copy.write(block)
        conn.commit()
        return time.perf_counter() - started


def copy_same_rows(conninfo: str, load_id: int) -> float:
    """COPY the loader's own output rows into a twin of raw.catalogue_record (same jsonb columns, same key):
    the storage cost any loader pays, so the ratio against it is the cost of reading and mapping."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("create table bench_twin (like raw.catalogue_record including all)")
        buffer = bytearray()
        with conn.cursor().copy(
            f"copy (select * from raw.catalogue_record where _load_id = {int(load_id)}) to stdout"
        ) as out:
            for block in out:
                buffer += block
        started = time.perf_counter()
        with conn.cursor().copy("copy bench_twin from stdin") as copy:
            copy.write(bytes(buffer))
        conn.commit()
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--workers", type=int, help="mapping processes of load_catalogue (default: its own choice by file size)"
    )
    parser.add_argument("--out", type=Path, default=PROJECT / "benchmarks" / "results" / "catalogue.json")
    args = parser.parse_args()

    server = os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"cstrack_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    os.environ["WAREHOUSE_URL"] = url
    os.environ.setdefault("CSTRACK_HOME", tempfile.mkdtemp(prefix="cst-bench-"))
    from cstrack import warehouse
    from cstrack.ingest.catalogue import load_catalogue

    try:
        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        with tempfile.TemporaryDirectory() as folder:
            data = Path(folder) / "citizenscience_gov.csv"
            print(f"writing {args.rows} rows ...", file=sys.stderr)
            write_input(data, args.rows)
            copy_seconds = copy_baseline(wh.conninfo, data)
            started = time.perf_counter()
            result = load_catalogue(MAPPING, data, wh, progress=None, workers=args.workers)
            loader_seconds = time.perf_counter() - started
            twin_seconds = copy_same_rows(wh.conninfo, result.load_id)
        assert result.rows_loaded + result.rows_quarantined == args.rows
        report = {
            "benchmark": "catalogue mapping loader vs raw COPY",
            "rows": args.rows,
            "copy_csv_rows_per_second": round(args.rows / copy_seconds),
            "copy_mapped_rows_per_second": round(args.rows / twin_seconds),
            "loader_rows_per_second": round(args.rows / loader_seconds),
            "ratio_loader_to_copy_csv": round(copy_seconds / loader_seconds, 3),
            "ratio_loader_to_copy_mapped": round(twin_seconds / loader_seconds, 3),
            "workers": args.workers,
            "target_ratio": 0.25,
        }
        report["target_met"] = report["ratio_loader_to_copy_csv"] >= report["target_ratio"]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
        print(json.dumps(report, indent=2))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
