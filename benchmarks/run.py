"""`make bench`: every benchmark of docs/design-notes.md §12 in one run, each against its baseline measured in the
same run, written to benchmarks/results/bench.json and bench.md (see benchmarks/README.md).

    .venv/bin/python benchmarks/run.py            # full sizes (about 45-50 minutes on the shared 2-core machine)
    .venv/bin/python benchmarks/run.py --quick    # small sizes, a few minutes: for development

Scratch databases on the PostgreSQL server of WAREHOUSE_URL (default postgresql://postgres@127.0.0.1:5432),
dropped at the end, also after a failure. Sections:

1. extract: the crawler's parsers against json.loads / lxml (bench_extract.py), pure CPU;
2. catalogue: the mapping loader against COPY of the same CSV (bench_catalogue.py), peak memory at two sizes;
3. survey: the codebook loader against COPY of the same answer rows;
4. social: the twitter_v2 loader against COPY of the same posts as JSON (bench_social.py), peak memory at
   two sizes; then, in the same database: `cstrack build` after loading the posts, 1% new posts and the
   incremental build, a full refresh (`dbt build --full-refresh`) as its baseline, and the GX gates'
   time on those rows; then the raw posts are multiplied in SQL up to the dashboard size, the marts are
   built by the real dbt build and every dashboard card's query is timed (EXPLAIN ANALYZE, reporter role).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import bench_catalogue  # noqa: E402 -- sibling modules: importable once BENCH is on sys.path
import bench_extract  # noqa: E402
import bench_social  # noqa: E402

SERVER = os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SIZES = {
    "full": {
        "catalogue_rows": (100_000, 1_000_000), "survey_respondents": 20_000, "social_posts": (100_000, 1_000_000),
        "new_share": 0.01, "dashboard_posts": 10_000_000, "card_runs": 20, "api_pages": 200, "html_pages": 2000,
    },
    "quick": {
        "catalogue_rows": (2_000, 20_000), "survey_respondents": 500, "social_posts": (2_000, 20_000),
        "new_share": 0.01, "dashboard_posts": 100_000, "card_runs": 20, "api_pages": 20, "html_pages": 200,
    },
}  # fmt: skip
NEW_ID_OFFSET = 2 * 10**17  # the new posts' tweet ids: above every generated one
COPY_ID_STEP = 10**15  # ids of the posts multiplied in SQL: copy n gets id + n * step
# a card variant gets `card_runs` runs, unless it has spent this long (then at >= 1 s a run: 5x the 200 ms target)
CARD_BUDGET_SECONDS, MIN_CARD_RUNS = 3.0, 3


def say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- scratch databases --------------------------------------------------------------------------------


@contextmanager
def scratch_database(workdir: Path):
    """A fresh, migrated database; WAREHOUSE_URL and CSTRACK_HOME point at it while inside."""
    name = f"cstrack_bench_{uuid.uuid4().hex[:8]}"
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    saved = {k: os.environ.get(k) for k in ("WAREHOUSE_URL", "CSTRACK_HOME", "CSTRACK_PSEUDONYM_KEY", "CSTRACK_CRAWL")}
    home = workdir / name
    os.environ.update(WAREHOUSE_URL=url, CSTRACK_HOME=str(home), CSTRACK_PSEUDONYM_KEY="bench", CSTRACK_CRAWL="off")
    try:
        from cstrack import warehouse

        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        yield wh
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(BENCH) + os.pathsep + os.environ.get("PYTHONPATH", "")}


# --- loaders in subprocesses (peak memory) ------------------------------------------------------------


def child_catalogue_load(path: str) -> None:
    """In a subprocess: load one catalogue export, print seconds and memory as JSON."""
    from cstrack import warehouse
    from cstrack.ingest.catalogue import load_catalogue

    wh = warehouse.current()
    baseline = _rss_kb()
    started = time.perf_counter()
    result = load_catalogue(bench_catalogue.MAPPING, Path(path), wh, progress=None)
    seconds = time.perf_counter() - started
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest mapping worker's, kB
    print(json.dumps({"seconds": seconds, "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
                      "load_id": result.load_id, "baseline_rss_kb": baseline,
                      "peak_rss_kb": bench_social.peak_rss_kb(), "worker_peak_rss_kb": worker_peak}))  # fmt: skip


def run_child_catalogue(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child-catalogue", str(path)],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"catalogue loader subprocess failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(load: dict) -> dict:
    return {
        "peak_rss_mb": round(load["peak_rss_kb"] / 1024, 1),
        "baseline_rss_mb": round(load["baseline_rss_kb"] / 1024, 1),
    }


# --- sections -----------------------------------------------------------------------------------------


def bench_extract_section(sizes: dict) -> dict:
    say(f"extract: {sizes['api_pages']} API pages, {sizes['html_pages']} JSON-LD pages")
    return bench_extract.measure(sizes["api_pages"], sizes["html_pages"])


def catalogue_load(rows: int, workdir: Path, baselines: bool = False) -> dict:
    """`rows` rows of the US export through the mapping loader in a subprocess (seconds, peak memory), in a
    scratch database; with `baselines`, COPY of the same CSV and of the loader's output rows too."""
    with scratch_database(workdir) as wh:
        data = workdir / f"citizenscience_gov_{rows}.csv"
        say(f"catalogue: writing {rows} rows, loading them in a subprocess")
        bench_catalogue.write_input(data, rows)
        load = run_child_catalogue(data)
        assert load["rows_read"] == rows, load
        out = {
            "rows": rows,
            "loader_seconds": round(load["seconds"], 2),
            "memory": {**memory(load), "worker_peak_rss_mb": round(load["worker_peak_rss_kb"] / 1024, 1)},
        }
        if baselines:
            copy_seconds = bench_catalogue.copy_baseline(wh.conninfo, data)
            twin_seconds = bench_catalogue.copy_same_rows(wh.conninfo, load["load_id"])
            out.update(
                copy_csv_seconds=round(copy_seconds, 2), copy_mapped_rows_seconds=round(twin_seconds, 2),
                loader_rows_per_second=round(rows / load["seconds"]),
                copy_csv_rows_per_second=round(rows / copy_seconds),
                ratio=round(copy_seconds / load["seconds"], 3),
                ratio_to_copy_mapped_rows=round(twin_seconds / load["seconds"], 3),
            )  # fmt: skip
        data.unlink()
    return out


def start_catalogue_memory(rows: int, workdir: Path) -> tuple[subprocess.Popen, Path]:
    """The large catalogue load in the background: its peak memory does not depend on what else runs, and
    at about 2,500 rows/s it would otherwise add minutes to the run."""
    out = workdir / "catalogue_memory.json"
    env = {**child_env(), "WAREHOUSE_URL": SERVER}
    command = [sys.executable, __file__, "--catalogue-memory", str(rows), "--json-out", str(out)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), out


def finish_catalogue_memory(job: tuple[subprocess.Popen, Path]) -> dict:
    process, out = job
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"background catalogue load failed:\n{stderr[-3000:]}")
    return json.loads(out.read_text())


def bench_survey_section(sizes: dict, workdir: Path) -> dict:
    from cstrack.demo.generate.survey import generate_survey
    from cstrack.ingest.survey import load_survey

    n = sizes["survey_respondents"]
    say(f"survey: {n} respondents (EN CSV sheet) through the codebook loader")
    files = generate_survey(workdir / "survey", workdir / "codebooks", waves={"2021": {"en": n}}, seed=7)
    data = files[0].data_path
    codebook = ROOT / "surveys" / "participants_2021_en.yml"
    with scratch_database(workdir) as wh:
        started = time.perf_counter()
        result = load_survey(codebook, data, wh)
        seconds = time.perf_counter() - started
        with psycopg.connect(wh.conninfo) as conn:
            buffer = bytearray()
            with conn.cursor().copy(
                f"copy (select * from raw.survey_answer where _load_id = {int(result.load_id)}) to stdout"
            ) as out:
                for block in out:
                    buffer += block
            conn.execute("create table raw.survey_answer_twin (like raw.survey_answer including all)")
            started = time.perf_counter()
            with conn.cursor().copy("copy raw.survey_answer_twin from stdin") as copy:
                copy.write(bytes(buffer))
            conn.commit()
            copy_seconds = time.perf_counter() - started
            (copied,) = conn.execute("select count(*) from raw.survey_answer_twin").fetchone()
    return {
        "respondents": n, "cells_read": result.rows_read, "cells_loaded": result.rows_loaded,
        "answer_rows_copied": copied,
        "loader_seconds": round(seconds, 2), "copy_answer_rows_seconds": round(copy_seconds, 2),
        "loader_cells_per_second": round(result.rows_read / seconds), "ratio": round(copy_seconds / seconds, 3),
    }  # fmt: skip


def new_posts_file(path: Path, posts: int, seed: int, month: int = 1) -> Path:
    """`posts` new tweets after the loaded ones (two months of 2025 from `month`, ids above every loaded id): a
    daily increment."""
    from cstrack.demo.generate.social import generate_social

    start = datetime(2025, month, 1, tzinfo=UTC)
    raw = generate_social("twitter_v2", path.with_suffix(".tmp"), posts, seed=seed, start=start, months=2)

    def shift(value: str) -> str:
        return str(int(value) + NEW_ID_OFFSET)

    with raw.open(encoding="utf-8") as source, path.open("w", encoding="utf-8") as out:
        for line in source:
            page = json.loads(line)
            for tweet in page["data"]:
                tweet["id"] = shift(tweet["id"])
                for ref in tweet.get("referenced_tweets", []):
                    ref["id"] = shift(ref["id"])
            for error in page.get("errors", []):
                error["value"] = error["resource_id"] = shift(error["value"])
            page["meta"].update(newest_id=page["data"][-1]["id"], oldest_id=page["data"][0]["id"])
            out.write(json.dumps(page, ensure_ascii=False) + "\n")
    raw.unlink()
    return path


def timed_build(wh, full_refresh: bool, gate_seconds: dict, prepare_next: bool = True) -> float:
    """marts.build, timing it and (through the module the build calls) the two GX gates."""
    from cstrack.publish import marts
    from cstrack.quality import gates

    originals = gates.validate_raw, gates.validate_marts

    def timing(name, fn):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                gate_seconds[name] = time.perf_counter() - started

        return run

    gates.validate_raw, gates.validate_marts = timing("raw_gate", originals[0]), timing("marts_gate", originals[1])
    try:
        started = time.perf_counter()
        marts.build(wh, full_refresh=full_refresh, prepare_next=prepare_next)
        return time.perf_counter() - started
    finally:
        gates.validate_raw, gates.validate_marts = originals


def count(wh, sql: str) -> int:
    with psycopg.connect(wh.conninfo) as conn:
        return conn.execute(sql).fetchone()[0]


def multiply_posts(wh, load_id: int, target: int) -> dict:
    """Copies of a real load's rows with new post ids (one ops.load_run per copy) up to `target` raw posts:
    rows shaped exactly like real loads, written by SQL because the loader would take hours for 10^7."""
    from cstrack.ingest.social.posts import COLUMNS

    base = count(wh, f"select count(*) from raw.social_post where _load_id = {int(load_id)}")
    have = count(wh, "select count(*) from raw.social_post")
    copies = max(0, -(-(target - have) // base))
    cols = ("_source", "_source_row") + tuple(c for c in COLUMNS)
    shifted = {"post_id": "(post_id::numeric + {n} * {step})::text",
               "referenced_post_id": "(referenced_post_id::numeric + {n} * {step})::text"}  # fmt: skip
    started = time.perf_counter()
    with psycopg.connect(wh.conninfo) as conn:
        has_commit_seq = conn.execute(
            "select 1 from information_schema.columns where table_schema = 'ops' and table_name = 'load_run'"
            " and column_name = 'commit_seq'"
        ).fetchone()
        for n in range(1, copies + 1):
            new_load = conn.execute(
                "insert into ops.load_run (source_kind, source_system,"
                " source_file, content_hash, mapping_hash, rows_read,"
                " rows_loaded, rows_quarantined, status, finished_at) select source_kind, source_system,"
                " source_file || ' (benchmark copy ' || %s || ')',"
                " content_hash || '-copy-' || %s, mapping_hash, rows_loaded,"
                " rows_loaded, 0, 'succeeded', now() from ops.load_run where load_id = %s returning load_id",
                (n, n, load_id),
            ).fetchone()[0]
            if has_commit_seq:  # the loader's commit order, which incremental models follow
                conn.execute(
                    "update ops.load_run set commit_seq = nextval('ops.load_commit_seq') where load_id = %s",
                    (new_load,),
                )
            select = ", ".join(shifted.get(c, c).format(n=n, step=COPY_ID_STEP) for c in cols)
            conn.execute(
                f"insert into raw.social_post (_load_id, {', '.join(cols)}) select {int(new_load)}, {select}"
                f" from raw.social_post where _load_id = {int(load_id)}"
            )
            conn.commit()
            say(f"  dashboards: copy {n} of {copies} inserted ({have + n * base} raw posts)")
        conn.execute("analyze raw.social_post")
        conn.commit()
    return {"copies": copies, "seconds": round(time.perf_counter() - started, 1)}


def card_timings(wh, runs: int) -> list[dict]:
    """Every card of dashboards/*.yml with the defaults and with each filter's example, as cstrack_reporter:
    `runs` EXPLAIN (ANALYZE) executions each; p95 of the execution times (ms)."""
    from cstrack.serve import dashboards

    results = []
    with psycopg.connect(wh.conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute("set role cstrack_reporter")
        for dashboard in dashboards.load_dashboards():
            for card in dashboard.cards:
                variants = {"defaults": dashboard.defaults()}
                for flt in card.filters:
                    variants[f"{flt.slug}={flt.example}"] = {**dashboard.defaults(), flt.slug: flt.example}
                for variant, values in variants.items():
                    sql, params = dashboards.render_sql(card, values)
                    conn.execute(sql, params).fetchall()  # warm-up, not counted
                    times, started = [], time.perf_counter()
                    while len(times) < runs:
                        plan = conn.execute("explain (analyze, format json) " + sql, params).fetchone()[0]
                        times.append(plan[0]["Execution Time"])
                        if len(times) >= MIN_CARD_RUNS and time.perf_counter() - started > CARD_BUDGET_SECONDS:
                            break  # far slower than the target: a few runs say so, twenty would take minutes
                    results.append({
                        "dashboard": dashboard.id, "card": card.id, "filters": variant, "runs": len(times),
                        "p95_ms": (round(statistics.quantiles(times, n=20, method="inclusive")[18], 2)
                                   if len(times) > 1 else times[0]),
                        "median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2),
                    })  # fmt: skip
    return results


def social_loads(sizes: dict, wh, workdir: Path) -> dict:
    """The twitter_v2 loader at both sizes in subprocesses (peak memory), against COPY at the larger."""
    from cstrack.demo.generate.social import generate_social

    small, large = sizes["social_posts"]
    out: dict = {"memory": {}}
    for posts in (small, large):
        path = workdir / f"twitter_v2_{posts}.jsonl"
        say(f"social: generating {posts} posts, loading them in a subprocess")
        generate_social("twitter_v2", path, posts, seed=7 + posts)
        load = bench_social.run_loader(path, {**os.environ}, workers=2)  # as the DAGs' two mapped enrichment tasks
        out["memory"][str(posts)] = memory(load)
        if posts == large:
            posts_seconds, _ = bench_social.raw_posts_copy_seconds(wh.conninfo, path, workdir)
            copy_seconds, _ = bench_social.raw_copy_seconds(wh.conninfo, load["load_id"], workdir)
            both = load["seconds"] + load["enrichment_seconds"]
            out.update(
                posts=posts, load_id=load["load_id"], rows_read=load["rows_read"],
                loader_seconds=round(load["seconds"], 2), landing_workers=load["landing_workers"],
                loader_posts_per_second=round(load["rows_read"] / load["seconds"]),
                enrichment_seconds=round(load["enrichment_seconds"], 2),
                enrichment_cpu_seconds=round(load["enrichment_cpu_seconds"], 2),
                rows_changed_by_enrichment=load["rows_changed"],
                landing_and_enrichment_posts_per_second=round(load["rows_read"] / both),
                copy_posts_json_seconds=round(posts_seconds, 2), copy_output_rows_seconds=round(copy_seconds, 2),
                ratio=round(posts_seconds / load["seconds"], 3),
                ratio_with_enrichment=round(posts_seconds / both, 3),
                ratio_to_copy_output_rows=round(copy_seconds / load["seconds"], 3),
            )  # fmt: skip
        path.unlink()
    return out


def end_to_end(wh, path: Path, workers: int) -> dict:
    """A daily increment from file to published marts: landing, enrichment with `workers` processes, the
    incremental build (gates and publish included); posts per second over the three."""
    from cstrack.ingest.social.enrich import enrich_pending
    from cstrack.ingest.social.load import load_social

    started = time.perf_counter()
    landed = load_social("twitter_v2", path, wh, enrich=False)
    landing = time.perf_counter() - started
    started = time.perf_counter()
    enrich_pending(wh, workers=workers, progress=None)
    enrichment = time.perf_counter() - started
    gates: dict = {}
    build = timed_build(wh, False, gates)
    total = landing + enrichment + build
    return {
        "posts": landed.rows_loaded, "landing_seconds": round(landing, 2), "enrichment_seconds": round(enrichment, 2),
        "build_seconds": round(build, 1), "gates": gates, "posts_per_second": round(landed.rows_loaded / total, 1),
    }  # fmt: skip


def refresh_and_gx(sizes: dict, wh, workdir: Path) -> tuple[dict, dict]:
    """The baseline first: a full refresh (`dbt build --full-refresh`: no incremental state) of the loaded
    posts, with the GX gates timed inside it; then 1% new posts and the incremental build. (The baseline
    runs on 1% fewer posts, which only makes the ratio more pessimistic.)"""
    from cstrack.ingest.catalogue import load_catalogue_inbox
    from cstrack.ingest.survey import load_survey_inbox

    say("refresh: the bundled catalogues and surveys, then a full refresh")
    sample = ROOT / "data" / "sample"
    load_catalogue_inbox(wh, sample)
    load_survey_inbox(wh, sample)
    full_gates: dict = {}
    full = timed_build(wh, True, full_gates)
    raw_posts = count(wh, "select count(*) from raw.social_post")
    mart_posts = count(wh, "select count(*) from marts.fct_social_post")
    new = max(1, round(sizes["social_posts"][1] * sizes["new_share"]))
    increments = {}
    for workers, month in ((1, 1), (2, 3)):  # two daily increments, each over two months (two enrichment parts)
        path = new_posts_file(workdir / f"twitter_v2_new_{month}.jsonl", new, seed=99 + month, month=month)
        increments[workers] = end_to_end(wh, path, workers)
        path.unlink()
        say(f"refresh: {new} new posts, {workers} enrichment worker(s): {increments[workers]}")
    first = increments[1]
    incremental, incremental_gates = first["build_seconds"], first["gates"]
    new_load_seconds = first["landing_seconds"] + first["enrichment_seconds"]
    refresh = {
        "mart_posts_before": mart_posts, "mart_posts_after": count(wh, "select count(*) from marts.fct_social_post"),
        "new_posts": new, "new_posts_load_seconds": round(new_load_seconds, 2),
        "full_refresh_seconds": round(full, 1), "incremental_build_seconds": round(incremental, 1),
        "ratio": round(incremental / full, 3),
        "end_to_end": {f"{w} worker{'s' if w > 1 else ''}": {k: v for k, v in r.items() if k != "gates"}
                       for w, r in increments.items()},
        "gates_seconds": {
            "full_refresh": {k: round(v, 1) for k, v in full_gates.items()},
            "incremental": {k: round(v, 1) for k, v in incremental_gates.items()},
        },
    }  # fmt: skip
    gx = {
        "raw_rows": raw_posts, "mart_rows": mart_posts,
        "raw_gate_seconds": round(full_gates["raw_gate"], 1), "marts_gate_seconds": round(full_gates["marts_gate"], 1),
        "raw_rows_per_second": round(raw_posts / full_gates["raw_gate"]),
        "mart_rows_per_second": round(mart_posts / full_gates["marts_gate"]),
    }  # fmt: skip
    return refresh, gx


def dashboards_build(sizes: dict, wh, load_id: int) -> dict:
    """Raw posts up to the dashboard size (copies of a real load, in SQL), then the real build."""
    target = sizes["dashboard_posts"]
    say(f"dashboards: raw posts up to {target} (copies of the loaded rows, in SQL), then the build")
    grown = multiply_posts(wh, load_id, target)
    gates: dict = {}
    # a full refresh: every post in the marts, whatever is incremental; the benchmark never builds again, so
    # marts_build is not brought up to the published marts (prepare_next=False)
    seconds = timed_build(wh, True, gates, prepare_next=False)
    return {
        "raw_posts": count(wh, "select count(*) from raw.social_post"),
        "mart_posts": count(wh, "select count(*) from marts.fct_social_post"), "generated_in_sql": grown,
        "build_seconds": round(seconds, 1), "gates_seconds": {k: round(v, 1) for k, v in gates.items()},
    }  # fmt: skip


def bench_social_section(sizes: dict, workdir: Path, results: dict, save) -> None:
    """Fills results["social"] step by step (saved after each, so a failure late in the run keeps the rest)."""
    with scratch_database(workdir) as wh:
        out = results["social"] = social_loads(sizes, wh, workdir)
        save()
        out["refresh"], out["gx"] = refresh_and_gx(sizes, wh, workdir)
        save()
        # the large catalogue load overlaps the SQL copies and the dashboard build, never a timed comparison
        job = start_catalogue_memory(sizes["catalogue_rows"][1], workdir)
        try:
            out["dashboards"] = dashboards_build(sizes, wh, out["load_id"])
        finally:
            large = finish_catalogue_memory(job)
            results["catalogue"]["memory"][str(large["rows"])] = large["memory"]
            results["catalogue"]["large_load_seconds_in_background"] = large["loader_seconds"]
            save()
        posts = out["dashboards"]["mart_posts"]
        say(f"dashboards: {posts} posts in marts; every card {sizes['card_runs']} times per filter set")
        out["dashboards"]["cards"] = card_timings(wh, sizes["card_runs"])


# --- the report ---------------------------------------------------------------------------------------


def rows_of(results: dict) -> list[tuple]:
    """(measurement, value, baseline, ratio, target, met) for the Markdown table."""
    rows = []
    extract = results.get("extract")
    if extract:
        for name, r in extract.items():
            rows.append((
                f"crawl extraction {name} ({r['pages']} pages), pages/s", r["extract_pages_per_second"],
                f"{r['baseline_pages_per_second']} ({r['baseline']})", r["ratio_to_baseline"], ">= 0.25",
                r["ratio_to_baseline"] >= 0.25,
            ))  # fmt: skip
    catalogue = results.get("catalogue")
    if catalogue:
        rows.append((
            f"catalogue loader ({catalogue['rows']} rows), rows/s", catalogue["loader_rows_per_second"],
            f"{catalogue['copy_csv_rows_per_second']} (COPY of the same CSV)", catalogue["ratio"], ">= 0.30",
            catalogue["ratio"] >= 0.30,
        ))  # fmt: skip
    survey = results.get("survey")
    if survey:
        rows.append((
            f"survey loader ({survey['respondents']} respondents, {survey['cells_read']} cells), cells/s",
            survey["loader_cells_per_second"],
            f"{round(survey['answer_rows_copied'] / survey['copy_answer_rows_seconds'])}"
            " (COPY of the same answer rows)",
            survey["ratio"], ">= 0.25", survey["ratio"] >= 0.25,
        ))  # fmt: skip
    social = results.get("social")
    if social and "rows_read" in social:  # a refresh or dashboards pass alone has no landing figures
        copy_rate = f"{round(social['rows_read'] / social['copy_posts_json_seconds'])} (COPY of the same posts as JSON)"
        rows.append((
            f"social landing twitter_v2 ({social['posts']} posts, {social.get('landing_workers', 0)} landing workers),"
            " posts/s", social["loader_posts_per_second"],
            copy_rate, social["ratio"], ">= 0.5", social["ratio"] >= 0.5,
        ))  # fmt: skip
        if "ratio_with_enrichment" in social:
            rows.append((
                f"social landing + enrichment ({social['posts']} posts), posts/s",
                social["landing_and_enrichment_posts_per_second"], copy_rate, social["ratio_with_enrichment"],
                ">= 0.25", social["ratio_with_enrichment"] >= 0.25,
            ))  # fmt: skip
    for name in ("catalogue", "social"):
        mem = (results.get(name) or {}).get("memory") or {}
        if len(mem) == 2:
            (small, a), (large, b) = sorted(mem.items(), key=lambda kv: int(kv[0]))
            ratio = round(b["peak_rss_mb"] / a["peak_rss_mb"], 3)
            rows.append((
                f"{name} loader peak RSS at {int(large):,} rows, MB", b["peak_rss_mb"],
                f"{a['peak_rss_mb']} (at {int(small):,} rows)",
                ratio, "<= 1.2", ratio <= 1.2,
            ))  # fmt: skip
    refresh = (social or {}).get("refresh")
    if refresh:
        rows.append((
            f"incremental build after {refresh['new_posts']} new posts ({refresh['mart_posts_after']:,} posts), s",
            refresh["incremental_build_seconds"], f"{refresh['full_refresh_seconds']} (dbt build --full-refresh)",
            refresh["ratio"], "<= 0.12", refresh["ratio"] <= 0.12,
        ))  # fmt: skip
        e2e = refresh.get("end_to_end") or {}
        if len(e2e) == 2:
            (one_name, one), (two_name, two) = e2e.items()
            rows.append((
                f"end to end, {two['posts']} new posts from file to published marts (landing, enrichment with"
                f" {two_name}, incremental build), posts/s", two["posts_per_second"],
                f"{one['posts_per_second']} (enrichment with {one_name})",
                round(two["posts_per_second"] / one["posts_per_second"], 3), "", None,
            ))  # fmt: skip
    gx = (social or {}).get("gx")
    if gx:
        rows.append((f"GX raw gate on {gx['raw_rows']:,} raw posts, s", gx["raw_gate_seconds"],
                     f"{gx['raw_rows_per_second']:,} rows/s", "", "", None))  # fmt: skip
        rows.append((f"GX marts gate on {gx['mart_rows']:,} fct_social_post rows, s", gx["marts_gate_seconds"],
                     f"{gx['mart_rows_per_second']:,} rows/s", "", "", None))  # fmt: skip
    dash = (social or {}).get("dashboards")
    if dash:
        rows.append((
            (
                f"dashboard marts ({dash['mart_posts']:,} posts) built from {dash['raw_posts']:,} raw posts"
                f" ({dash['generated_in_sql']['copies']} copies of the"
                " loaded posts made in SQL; build, gates, publish), s"
            ),
            dash["build_seconds"],
            f"raw gate {dash['gates_seconds'].get('raw_gate')} s,"
            f" marts gate {dash['gates_seconds'].get('marts_gate')} s",
            "", "", None,
        ))  # fmt: skip
    if dash and dash.get("cards"):
        worst = max(dash["cards"], key=lambda c: c["p95_ms"])
        slow = sum(1 for c in dash["cards"] if c["p95_ms"] >= 200)
        rows.append((
            (
                f"dashboard cards p95, slowest of {len(dash['cards'])} card x filter sets "
                f"({worst['dashboard']}.{worst['card']}, {worst['filters']}), marts of {dash['mart_posts']:,} posts "
                f"({dash['generated_in_sql']['copies']} copies of the loaded posts made in SQL), ms"
            ),
            worst["p95_ms"], "", "", "< 200", worst["p95_ms"] < 200 and not slow,
        ))  # fmt: skip
    meta = results["run"]
    if meta.get("complete"):
        minutes = round(meta["seconds"] / 60, 1)
        rows.append(("whole run (make bench), min", minutes, "", "", "< 30", minutes < 30))
    return rows


def part_line(part: str, run: dict | None) -> str:
    """The note of a part measured again on its own (`run.py --only PART`), merged into the run's files."""
    if not run:
        return ""
    state = "" if run.get("complete") else ", INCOMPLETE"
    what = {"dashboards": "Dashboard cards", "refresh": "Full and incremental refresh, GX gates",
            "loaders": "Loaders (extraction, catalogue, survey, social landing and enrichment)"}[part]  # fmt: skip
    code = f", {code_line(run['code'])[:-1].lower()}" if "code" in run else ""
    return (
        f"{what}: measured again in a separate pass (`run.py --only {part}`) started {run['started_at']},"
        f" {run.get('seconds', 0) / 60:.1f} min, load average {run['load_before']} before{code}{state}."
    )


def code_line(code: dict) -> str:
    changed = ", ".join(line.split()[-1] for line in code["uncommitted"])
    return f"Code: commit {code['commit']}" + (f", with uncommitted changes to {changed}." if changed else ".")


def markdown(results: dict) -> str:
    meta = results["run"]
    lines = [
        (
            f"Measured {meta['finished_at']} ({meta['mode']}), {meta['cpus']} CPUs, load average "
            f"{meta['load_before']} before and {meta['load_after']} after, total {meta['seconds'] / 60:.1f} min."
            + ("" if meta.get("complete") else " INCOMPLETE: the run stopped or is still running.")
        ),
        "",
        code_line(meta["code"]) if "code" in meta else "",
        part_line("dashboards", meta.get("dashboards_run")),
        part_line("refresh", meta.get("refresh_run")),
        part_line("loaders", meta.get("loaders_run")),
        "",
        "| measurement | value | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    lines = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]  # no empty note lines
    for name, value, baseline, ratio, target, met in rows_of(results):
        shown = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {value} | {baseline} | {ratio} | {target} | {shown} |")
    dash = (results.get("social") or {}).get("dashboards")
    if dash and dash.get("cards"):
        runs = results["run"]["sizes"]["card_runs"]
        title = (
            f"Dashboard cards (EXPLAIN ANALYZE execution time as cstrack_reporter, {runs} runs each after a warm-up;"
            f" a slow one: at least {MIN_CARD_RUNS} runs, then stop after {CARD_BUDGET_SECONDS:.0f} s):"
        )
        lines += ["", title, "",
                  "| dashboard | card | filters | runs | median ms | p95 ms | max ms | < 200 ms? |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for c in dash["cards"]:
            ok = "yes" if c["p95_ms"] < 200 else "**no**"
            lines.append(
                f"| {c['dashboard']} | {c['card']} | {c['filters']} | {c['runs']} | {c['median_ms']} | {c['p95_ms']}"
                f" | {c['max_ms']} | {ok} |"
            )
    return "\n".join(lines) + "\n"


def dashboards_pass(sizes: dict, workdir: Path, results: dict, save) -> None:
    """Only the dashboards: the bundled catalogues and surveys, the larger social size through the loader,
    copies in SQL up to the dashboard size, a full build, every card."""
    from cstrack.demo.generate.social import generate_social
    from cstrack.ingest.catalogue import load_catalogue_inbox
    from cstrack.ingest.social.load import load_social
    from cstrack.ingest.survey import load_survey_inbox

    with scratch_database(workdir) as wh:
        sample = ROOT / "data" / "sample"
        load_catalogue_inbox(wh, sample)
        load_survey_inbox(wh, sample)
        posts = sizes["social_posts"][1]
        say(f"dashboards: generating and loading {posts} posts")
        path = generate_social("twitter_v2", workdir / "twitter_v2.jsonl", posts, seed=7 + posts)
        load = load_social("twitter_v2", path, wh)
        path.unlink()
        out = results.setdefault("social", {})["dashboards"] = dashboards_build(sizes, wh, load.load_id)
        save()
        say(f"dashboards: {out['mart_posts']} posts in marts; every card {sizes['card_runs']} times per filter set")
        out["cards"] = card_timings(wh, sizes["card_runs"])


def refresh_pass(sizes: dict, workdir: Path, results: dict, save) -> None:
    """Only the refresh: the larger social size through the loader, then refresh_and_gx (full, 1% new, incremental)."""
    from cstrack.demo.generate.social import generate_social
    from cstrack.ingest.social.load import load_social

    with scratch_database(workdir) as wh:
        posts = sizes["social_posts"][1]
        say(f"refresh: generating and loading {posts} posts")
        path = generate_social("twitter_v2", workdir / "twitter_v2.jsonl", posts, seed=7 + posts)
        load_social("twitter_v2", path, wh)
        path.unlink()
        social = results.setdefault("social", {})
        social["refresh"], social["gx"] = refresh_and_gx(sizes, wh, workdir)
        save()


def loaders_pass(sizes: dict, workdir: Path, results: dict, save) -> None:
    """Only the loaders against their baselines: extraction, catalogue and survey at the smaller size, social
    landing and enrichment at both (memory); the catalogue's memory at the larger size stays the full run's."""
    results["extract"] = bench_extract_section(sizes)
    small = catalogue_load(sizes["catalogue_rows"][0], workdir, baselines=True)
    results["catalogue"] = {**small, "memory": {str(small["rows"]): small["memory"]}}
    results["survey"] = bench_survey_section(sizes, workdir)
    save()
    with scratch_database(workdir) as wh:
        results["social"] = social_loads(sizes, wh, workdir)
    save()


def merge_loaders(merged: dict, part: dict) -> None:
    """A loaders pass into a full run's results, keeping what that pass does not measure."""
    for key in ("extract", "survey"):
        if key in part:
            merged[key] = part[key]
    if "catalogue" in part:
        before = merged.get("catalogue", {})
        memory = {**before.get("memory", {}), **part["catalogue"]["memory"]}
        kept = {k: v for k, v in before.items() if k == "large_load_seconds_in_background"}
        merged["catalogue"] = {**part["catalogue"], **kept, "memory": memory}
    if "social" in part:
        merged.setdefault("social", {}).update(part["social"])


def code_state() -> dict:
    """The commit and the uncommitted changes that the run measured (dbt models and loaders are read from the tree)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    changed = git("status", "--short", "--", "dbt", "plugins", "expectations").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": [line.strip() for line in changed]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="every benchmark, one run (see the module docstring)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for development")
    parser.add_argument("--out", type=Path, default=BENCH / "results", help="where bench.json and bench.md go")
    parser.add_argument(
        "--only",
        choices=["dashboards", "refresh", "loaders"],
        help="one part only (the dashboards, the full and incremental refresh, or the loaders against their"
        " baselines): replaces it in the existing bench.json and bench.md",
    )
    parser.add_argument("--child-catalogue", help=argparse.SUPPRESS)
    parser.add_argument("--catalogue-memory", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_catalogue:
        child_catalogue_load(args.child_catalogue)
        return 0
    if args.catalogue_memory:
        workdir = Path(tempfile.mkdtemp(prefix="cst-bench-"))
        try:
            args.json_out.write_text(json.dumps(catalogue_load(args.catalogue_memory, workdir)))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0

    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    workdir = Path(tempfile.mkdtemp(prefix="cst-bench-"))
    started = time.perf_counter()
    results: dict = {"run": {"mode": mode, "sizes": sizes, "cpus": os.cpu_count(), "python": platform.python_version(),
                             "load_before": [round(x, 2) for x in os.getloadavg()],
                             "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                             "code": code_state()}}  # fmt: skip
    suffix = "_quick" if args.quick else ""
    args.out.mkdir(parents=True, exist_ok=True)

    def save(final: bool = False) -> None:
        results["run"].update(
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"), complete=final,
            seconds=round(time.perf_counter() - started), load_after=[round(x, 2) for x in os.getloadavg()],
        )  # fmt: skip
        (args.out / f"bench{suffix}.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.out / f"bench{suffix}.md").write_text(markdown(results))

    if args.only:
        this_run = results["run"]
        started_part = time.perf_counter()
        part: dict = {}
        keys = {"dashboards": ["dashboards"], "refresh": ["refresh", "gx"], "loaders": []}[args.only]

        def save_part(final: bool = False) -> None:
            """Merged into the last bench.json as it is now (a full run may still be writing it)."""
            this_run.update(
                seconds=round(time.perf_counter() - started_part), complete=final,
                finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
                load_after=[round(x, 2) for x in os.getloadavg()],
            )  # fmt: skip
            path = args.out / f"bench{suffix}.json"
            merged = json.loads(path.read_text()) if path.exists() else {"run": {**this_run, "complete": False}}
            merged["run"][f"{args.only}_run"] = this_run
            if args.only == "loaders":
                merge_loaders(merged, part)
            for key in keys:
                if key in part.get("social", {}):
                    merged.setdefault("social", {})[key] = part["social"][key]
            path.write_text(json.dumps(merged, indent=2) + "\n")
            (args.out / f"bench{suffix}.md").write_text(markdown(merged))

        try:
            passes = {"dashboards": dashboards_pass, "refresh": refresh_pass, "loaders": loaders_pass}
            passes[args.only](sizes, workdir, part, save_part)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        save_part(final=True)
        print((args.out / f"bench{suffix}.md").read_text())
        return 0

    try:
        results["extract"] = bench_extract_section(sizes)
        small = catalogue_load(sizes["catalogue_rows"][0], workdir, baselines=True)
        results["catalogue"] = {**small, "memory": {str(small["rows"]): small["memory"]}}
        results["survey"] = bench_survey_section(sizes, workdir)
        save()
        bench_social_section(sizes, workdir, results, save)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    save(final=True)
    print(markdown(results))
    say(f"written to {args.out / f'bench{suffix}.json'} and bench{suffix}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
