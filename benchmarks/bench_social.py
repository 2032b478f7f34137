"""Benchmark of the social loader: N generated twitter_v2 posts landed by `load_social`, then enriched; raw COPY.

    .venv/bin/python benchmarks/bench_social.py --posts 100000

1. generates N posts (cstrack.demo.generate.social, API v2 pages as JSON lines);
2. in a subprocess, lands them with `load_social(enrich=False)` (parse, pseudonymise, COPY), timing it and
   reading the process's peak resident memory (resource.getrusage) and its resident memory before the load;
   then enriches them (social/enrich.py: language, sentiment, SDGs; month by month, in forked workers when
   cores are idle), timed apart;
3. in the same run, COPYs the same posts as raw JSON documents, and the very rows the loader wrote
   (exported from raw.social_post as COPY text) into an identical table: the two baselines;
4. repeats step 2 for each size of --memory-at up to N (default 10^5 and 10^6) to show that memory is flat;
5. writes everything as JSON to benchmarks/results/bench_social_<N>.json.

Two baselines, as in bench_catalogue.py: raw COPY of the same posts as JSON documents (one jsonb row per
tweet: landing them without any parsing), and COPY of the loader's own output rows (the storage cost).
ratio = baseline seconds / loader seconds: landing >= 0.5 and landing + enrichment >= 0.25 of the raw COPY.
Runs against a throwaway database on the PostgreSQL server of CSTRACK_TEST_SERVER (default 127.0.0.1:5432).
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")


def _rss_kb() -> int:
    """Current resident memory of this process, in kB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child_load(path: str, workers: int | None) -> None:
    """In the subprocess: land one file, then enrich it; print timing and memory as JSON (the enrichment
    workers' peak too: they are this process's children, each with its own memory)."""
    from cstrack import warehouse
    from cstrack.ingest.social.enrich import enrich_pending
    from cstrack.ingest.social.landing_workers import workers_for
    from cstrack.ingest.social.load import load_social

    wh = warehouse.current()
    baseline = _rss_kb()  # after the imports
    landing_workers = workers_for("twitter_v2", Path(path))  # the loader's own choice (idle cores, file size)
    started, cpu_before = time.perf_counter(), _cpu_seconds()
    result = load_social("twitter_v2", path, wh, enrich=False)
    landing, landing_cpu = time.perf_counter() - started, _cpu_seconds() - cpu_before
    landing_peak = peak_rss_kb()
    started, cpu_before = time.perf_counter(), _cpu_seconds()
    totals = enrich_pending(wh, workers=workers, progress=None)
    enrichment = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before  # CPU of this process and its workers: steadier than seconds on a busy machine
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker's, kB; 0 without workers
    print(json.dumps({"seconds": landing, "enrichment_seconds": enrichment, "rows_read": result.rows_read,
                      "rows_loaded": result.rows_loaded, "rows_enriched": totals["posts"],
                      "rows_changed": totals["changed"], "load_id": result.load_id, "baseline_rss_kb": baseline,
                      "peak_rss_kb": landing_peak, "enrichment_peak_rss_kb": peak_rss_kb(),
                      "worker_peak_rss_kb": worker_peak, "cpu_seconds": landing_cpu, "landing_workers": landing_workers,
                      "enrichment_cpu_seconds": cpu}))  # fmt: skip


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_kb() -> int:
    """Peak resident memory of this process, in kB. ru_maxrss (resource.getrusage) is the same figure unless
    the process was started by a large parent: Linux carries the parent's peak over fork and exec into
    ru_maxrss, while VmHWM belongs to this program alone. The smaller of the two is this process's own."""
    own = next((int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmHWM:")), None)  # fmt: skip
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return min(maxrss, own) if own else maxrss


def run_loader(path: Path, env: dict, workers: int | None = None) -> dict:
    command = [sys.executable, __file__, "--child-load", str(path)]
    if workers is not None:
        command += ["--workers", str(workers)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"loader subprocess failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def raw_posts_copy_seconds(url: str, source: Path, workdir: Path) -> tuple[float, int]:
    """COPY the same posts as raw JSON documents (one jsonb row per tweet): landing them with no parsing."""
    lines = workdir / "posts.jsonl"
    with source.open(encoding="utf-8") as pages, lines.open("w", encoding="utf-8") as out:
        for page in pages:
            for tweet in json.loads(page).get("data", []):
                out.write(json.dumps(tweet, ensure_ascii=False) + "\n")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table raw.social_post_json_bench (post jsonb not null)")
        started = time.perf_counter()
        # csv with control characters as quote and delimiter: each line is taken verbatim
        with (
            conn.transaction(),
            lines.open("rb") as data,
            conn.cursor().copy(
                "copy raw.social_post_json_bench (post) from stdin (format csv, quote e'\\x01', delimiter e'\\x02')"
            ) as copy,
        ):
            while block := data.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        (rows,) = conn.execute("select count(*) from raw.social_post_json_bench").fetchone()
        conn.execute("drop table raw.social_post_json_bench")
    lines.unlink()
    return seconds, rows


def raw_copy_seconds(url: str, load_id: int, workdir: Path) -> tuple[float, int]:
    """COPY the rows of one load, as COPY text, into an identical table; returns (seconds, rows)."""
    from cstrack.ingest.social.posts import COLUMNS

    cols = ", ".join(("_load_id", "_source", "_source_row") + COLUMNS)
    dump = workdir / "rows.copy"
    with psycopg.connect(url, autocommit=True) as conn:
        with (
            dump.open("wb") as out,
            conn.cursor().copy(
                f"copy (select {cols} from raw.social_post where _load_id = {int(load_id)}) to stdout"
            ) as copy,
        ):
            for block in copy:
                out.write(block)
        conn.execute("drop table if exists raw.social_post_copy_bench")
        conn.execute("create table raw.social_post_copy_bench (like raw.social_post including all)")
        conn.execute(
            "alter table raw.social_post_copy_bench add foreign key (_load_id) references ops.load_run"
        )  # the loader's table checks it too
        started = time.perf_counter()
        with (
            conn.transaction(),
            dump.open("rb") as source,
            conn.cursor().copy(f"copy raw.social_post_copy_bench ({cols}) from stdin") as copy,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        (rows,) = conn.execute("select count(*) from raw.social_post_copy_bench").fetchone()
        conn.execute("drop table raw.social_post_copy_bench")
    return seconds, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="social loader benchmark (see the module docstring)")
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts to load (default 10^6)")
    parser.add_argument(
        "--memory-at", default="100000,1000000", help="sizes at which to measure peak memory (<= --posts)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="enrichment processes (default 2: the two mapped enrichment tasks of the DAGs)",
    )
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_load:
        child_load(args.child_load, args.workers)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="cst-bench-"))
    name = f"cstrack_bench_{uuid.uuid4().hex[:8]}"
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "WAREHOUSE_URL": url, "CSTRACK_HOME": str(workdir / "home"), "CSTRACK_PSEUDONYM_KEY": "bench"}
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        os.environ.update(env)
        from cstrack import warehouse
        from cstrack.demo.generate.social import generate_social

        warehouse.migrate(warehouse.Warehouse.from_url(url))
        sizes = sorted({args.posts} | {int(s) for s in args.memory_at.split(",") if s and int(s) <= args.posts})
        memory = {}
        report: dict = {}
        for size in sizes:
            started = time.perf_counter()
            path = generate_social("twitter_v2", workdir / f"twitter_v2_{size}.jsonl", size, seed=args.seed + size)
            generated = time.perf_counter() - started
            print(f"generated {size} posts ({path.stat().st_size / 1e6:.0f} MB) in {generated:.1f} s", flush=True)
            load = run_loader(path, env, args.workers)
            memory[str(size)] = {"peak_rss_mb": round(load["peak_rss_kb"] / 1024, 1),
                                 "baseline_rss_mb": round(load["baseline_rss_kb"] / 1024, 1),
                                 "loader_growth_mb": round((load["peak_rss_kb"] - load["baseline_rss_kb"]) / 1024, 1),
                                 "worker_peak_rss_mb": round(load["worker_peak_rss_kb"] / 1024, 1)}  # fmt: skip
            print(
                f"landed {load['rows_loaded']} of {load['rows_read']} in {load['seconds']:.1f} s"
                f" ({load['cpu_seconds']:.1f} s CPU), peak RSS {memory[str(size)]}; enriched"
                f" {load['rows_enriched']} in {load['enrichment_seconds']:.1f} s"
                f" ({load['enrichment_cpu_seconds']:.1f} s CPU)",
                flush=True,
            )
            if size == args.posts:
                posts_seconds, posts_rows = raw_posts_copy_seconds(url, path, workdir)
                print(f"raw COPY of the same {posts_rows} posts as JSON: {posts_seconds:.1f} s", flush=True)
                copy_seconds, copy_rows = raw_copy_seconds(url, load["load_id"], workdir)
                print(f"COPY of the loader's {copy_rows} output rows: {copy_seconds:.1f} s", flush=True)
                both = load["seconds"] + load["enrichment_seconds"]
                report = {
                    "posts": size,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "rows_loaded": load["rows_loaded"],
                    "rows_quarantined": load["rows_read"] - load["rows_loaded"],
                    "rows_enriched": load["rows_enriched"],
                    "rows_changed_by_enrichment": load["rows_changed"],
                    "loader_seconds": round(load["seconds"], 2),
                    "loader_posts_per_second": round(load["rows_read"] / load["seconds"]),
                    "loader_cpu_seconds": round(load["cpu_seconds"], 2),
                    "landing_workers": load["landing_workers"],
                    "enrichment_seconds": round(load["enrichment_seconds"], 2),
                    "enrichment_cpu_seconds": round(load["enrichment_cpu_seconds"], 2),
                    "enrichment_workers": args.workers,
                    "landing_and_enrichment_posts_per_second": round(load["rows_read"] / both),
                    "raw_copy_posts_json_seconds": round(posts_seconds, 2),
                    "raw_copy_posts_json_per_second": round(posts_rows / posts_seconds),
                    "copy_output_rows_seconds": round(copy_seconds, 2),
                    "copy_output_rows_per_second": round(copy_rows / copy_seconds),
                    "ratio_loader_to_raw_copy": round(posts_seconds / load["seconds"], 3),
                    "ratio_landing_and_enrichment_to_raw_copy": round(posts_seconds / both, 3),
                    "ratio_loader_to_copy_output_rows": round(copy_seconds / load["seconds"], 3),
                    "target_ratio": 0.5,
                    "target_met": posts_seconds / load["seconds"] >= 0.5,
                    "target_ratio_with_enrichment": 0.25,
                    "target_met_with_enrichment": posts_seconds / both >= 0.25,
                }
            path.unlink()
        report["peak_memory"] = memory
        report["machine"] = {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        }
        report["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        out = ROOT / "benchmarks" / "results" / f"bench_social_{args.posts}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
        print(f"written to {out}")
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
