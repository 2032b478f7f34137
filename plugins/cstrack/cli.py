"""`cstrack`: one CLI for every step; each command exits 2 with a one-line reason on failure."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cstrack.errors import CstrackError, one_line


def _warehouse(args) -> int:
    from cstrack import warehouse

    if args.action == "start":
        wh, was_running = warehouse.start()
        print(("warehouse already running: " if was_running else "warehouse started: ") + wh.describe())
    elif args.action == "stop":
        print("warehouse stopped" if warehouse.stop() else "warehouse was not running")
    elif args.action == "status":
        print(warehouse.status())
    elif args.action == "url":
        print(warehouse.current().url)
    return 0


def _load(args) -> int:
    from cstrack import sources, warehouse

    source = sources.BY_KIND[args.kind]
    if source.definition and args.file is None:
        raise CstrackError(f"load {args.kind} needs the {source.definition} and the FILE")
    wh = warehouse.current()
    warehouse.migrate(wh)
    load_file = sources.resolve(source.load_file)
    if source.definition:
        result = load_file(args.definition, args.file, wh)
    else:  # the one positional argument is the file itself
        result = load_file(args.definition, wh, format=args.format)
    print(result.summary())
    return 0


def _crawl(args) -> int:
    from cstrack import warehouse
    from cstrack.ingest import crawl

    wh = warehouse.current()
    warehouse.migrate(wh)
    platforms = args.platform or None
    if args.reextract:
        registry = None
        if args.demo:
            from cstrack.demo.sites import demo_platforms

            registry = demo_platforms()
        crawl.reextract(wh, platforms, registry)
    elif args.demo:
        from cstrack.demo.sites import crawl_demo

        crawl_demo(wh)
    else:
        crawl.crawl(wh, platforms)
    return 0


def _build(args) -> int:
    from cstrack.publish import marts

    marts.build(full_refresh=args.full_refresh)
    return 0


def _report(args) -> int:
    from cstrack.serve import report

    print(f"report written to {report.write_report()}")
    return 0


def published_counts(wh) -> dict[str, int]:
    """Survey respondents and social posts in the published marts, read as the reporter role."""
    from cstrack import warehouse

    with warehouse.connect(wh) as conn:
        warehouse.as_reporter(conn)
        respondents = conn.execute(
            "select count(distinct (survey, wave, respondent_key)) from marts.fct_survey_response"
        )
        posts = conn.execute("select count(*) from marts.fct_social_post")
        return {"respondents": respondents.fetchone()[0], "posts": posts.fetchone()[0]}


def _refresh(args) -> int:
    from cstrack import config, warehouse
    from cstrack.orchestration import airflow_glue, pipeline
    from cstrack.serve import report

    wh = warehouse.current()
    warehouse.migrate(wh)
    if args.no_airflow:
        pipeline.refresh(wh)
    else:
        airflow_glue.run_dag("warehouse_refresh", wh, verbose=args.verbose, plain=args.plain)
    summary = report.summary(wh)
    print(f"published {summary.projects} projects from {len(summary.sources)} catalogues and platforms")
    counts = published_counts(wh)
    print(f"published {counts['respondents']} survey respondents and {counts['posts']} social posts")
    print(f"report: {config.report_dir() / 'index.html'}")
    return 0


def _dbt(args) -> int:
    import subprocess

    from cstrack import warehouse
    from cstrack.transform import dbt

    schema = dbt.dev_schema(args.dev_schema)
    command, env = dbt.analyst_command(args.dbt_args, warehouse.current(), schema)
    print(f"dbt in {env['DBT_PROJECT_DIR']} on {warehouse.current().describe()}, models into {schema}_*", flush=True)
    return subprocess.run(command, env=env, cwd=env["DBT_PROJECT_DIR"]).returncode


def _airflow(args) -> int:
    from cstrack import warehouse
    from cstrack.orchestration import local_ui, scaleout

    if args.action == "ui":
        local_ui.serve(warehouse.current(), port=args.port)
    elif args.action == "stop":
        print(local_ui.stop())
    else:
        scaleout.run_refresh(warehouse.current(), workers=args.workers, timeout=args.timeout)
    return 0


def _metabase(args) -> int:
    from cstrack.serve import dashboards, metabase

    specs = dashboards.load_dashboards(args.dashboards)
    result = metabase.sync(metabase.settings_from_env(public_links=args.public), specs)
    print(result.summary())
    for dashboard_id, url in result.public_links.items():
        print(f"public link {dashboard_id}: {url}")
    return 0


def _dashboards(args) -> int:
    from cstrack.serve import dashboards

    specs = dashboards.load_dashboards(args.dashboards)
    if args.action == "check":
        print(f"{len(specs)} dashboards, {sum(len(d.cards) for d in specs)} cards: valid")
    else:
        print(f"exposures written to {dashboards.write_exposures(specs)}")
    return 0


def _quality(args) -> int:
    from cstrack import warehouse
    from cstrack.quality import suites

    names = suites.define(warehouse.current())
    print(f"defined {len(names)} suites in expectations/gx/: {', '.join(names)}")
    return 0


def _generate(args) -> int:
    from cstrack import config
    from cstrack.demo.generate import generate_inbox

    out = args.out or config.home() / "generated"
    written = generate_inbox(out, args.projects, args.posts, args.respondents, args.seed)
    print(f"wrote {sum(len(files) for files in written.values())} files to {out}; load them with:")
    print(f"CSTRACK_INBOX={out} cstrack refresh")
    return 0


def _export(args) -> int:
    from cstrack.serve import export

    path, n = export.export_ppsr(out=args.out)
    print(f"PPSR Core JSON ({n} projects) written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cstrack", description="CS Track citizen-science warehouse")
    parser.add_argument("--debug", action="store_true", help="on failure, also print the traceback")
    commands = parser.add_subparsers(dest="command", required=True)

    wh = commands.add_parser("warehouse", help="start, stop or inspect the embedded warehouse")
    wh.add_argument("action", choices=["start", "stop", "status", "url"])
    wh.set_defaults(func=_warehouse)

    from cstrack.sources import SOURCES

    loadable = [s for s in SOURCES if s.load_file]
    load = commands.add_parser(
        "load",
        help="load one source file into raw",
        description=" | ".join(
            f"cstrack load {s.kind} {(s.definition.upper() + ' ') if s.definition else ''}FILE" for s in loadable
        ),
    )
    load.add_argument("kind", choices=[s.kind for s in loadable])
    load.add_argument("definition", type=Path, help="the mapping or codebook (for social: the file itself)")
    load.add_argument("file", type=Path, nargs="?", help="the export to load")
    load.add_argument(
        "--format",
        choices=["twitter_v2", "mastodon", "lynguo"],
        help="social posts' format (default: from the file name)",
    )
    load.set_defaults(func=_load)

    crawl = commands.add_parser(
        "crawl",
        help="crawl the platforms of catalogues/platforms.yml into raw",
        description="Fetch the platforms' pages politely into raw.crawl_page and extract their projects.",
    )
    crawl.add_argument("--platform", action="append", metavar="ID", help="only this platform (repeatable)")
    crawl.add_argument("--reextract", action="store_true", help="re-parse the stored pages; no HTTP request")
    crawl.add_argument("--demo", action="store_true", help="serve the generated demo sites on 127.0.0.1 and crawl them")
    crawl.set_defaults(func=_crawl)

    build = commands.add_parser("build", help="dbt build into marts_build, quality gates, publish to marts")
    build.add_argument(
        "--full-refresh", action="store_true", help="rebuild everything, incremental models too (default: what changed)"
    )
    build.set_defaults(func=_build)

    report = commands.add_parser("report", help="write the static HTML report from marts")
    report.set_defaults(func=_report)

    export = commands.add_parser("export", help="export the published catalogue (ppsr: PPSR Core project JSON)")
    export.add_argument("format", choices=["ppsr"])
    export.add_argument("--out", type=Path, help="output file (default $CSTRACK_HOME/export/ppsr_projects.json)")
    export.set_defaults(func=_export)

    generate = commands.add_parser(
        "generate", help="write a synthetic inbox at scale (catalogues, surveys, social) in the real input formats"
    )
    generate.add_argument("--projects", type=int, default=1000, help="catalogue projects (default 1000)")
    generate.add_argument(
        "--posts", type=int, default=10000, help="social posts over the three formats (default 10000)"
    )
    generate.add_argument(
        "--respondents", type=int, default=600, help="survey respondents over both waves (default 600)"
    )
    generate.add_argument("--seed", type=int, default=0, help="the same seed writes the same files")
    generate.add_argument("--out", type=Path, help="the inbox folder to write (default $CSTRACK_HOME/generated)")
    generate.set_defaults(func=_generate)

    quality = commands.add_parser(
        "quality", help="quality suites: `define` writes the suites of plugins/cstrack/quality/ into expectations/gx/"
    )
    quality.add_argument("action", choices=["define"])
    quality.set_defaults(func=_quality)

    refresh = commands.add_parser("refresh", help="run the whole warehouse_refresh DAG")
    refresh.add_argument(
        "--no-airflow", action="store_true", help="call the steps directly, without Airflow (prints every step)"
    )
    refresh.add_argument("--plain", action="store_true", help="plain lines, no live progress (default off a terminal)")
    refresh.add_argument(
        "--verbose", action="store_true", help="print Airflow's and dbt's whole output (it is always in the log)"
    )
    refresh.set_defaults(func=_refresh)

    dbt = commands.add_parser(
        "dbt",
        help="run dbt as an analyst: `cstrack dbt build -s my_model+`, `cstrack dbt docs serve`",
        description=(
            "Runs dbt in dbt/ with the warehouse's connection. Models are built into dev_<you>_<schema> "
            "(dev_<you>_staging, dev_<you>_marts, ...), never into marts: only `cstrack build` publishes. "
            "What a selection leaves out is read from the last `cstrack build` (--defer --state)."
        ),
    )
    dbt.add_argument("--dev-schema", metavar="NAME", help="prefix of your schemas (default dev_<login name>)")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt's own arguments")
    dbt.set_defaults(func=_dbt)

    airflow = commands.add_parser(
        "airflow",
        help="ui: Airflow's web UI on the warehouse (stop: stop it); scaleout-demo: the refresh on Celery workers",
    )
    airflow.add_argument("action", choices=["ui", "stop", "scaleout-demo"])
    airflow.add_argument("--port", type=int, help="ui: the port of the web UI (default: a free one)")
    airflow.add_argument("--workers", type=int, default=2, help="Celery workers to start (default 2)")
    airflow.add_argument("--timeout", type=float, default=900, help="seconds to wait for the DAG run (default 900)")
    airflow.set_defaults(func=_airflow)

    mb = commands.add_parser("metabase", help="provision Metabase from dashboards/*.yml (METABASE_URL, credentials)")
    mb.add_argument("action", choices=["sync"])
    mb.add_argument("--public", action="store_true", help="also create public links to the dashboards")
    mb.add_argument("--dashboards", type=Path, help="folder of dashboard specs (default: dashboards/)")
    mb.set_defaults(func=_metabase)

    dash = commands.add_parser("dashboards", help="validate the dashboard specs, or write dbt exposures from them")
    dash.add_argument("action", choices=["check", "exposures"])
    dash.add_argument("--dashboards", type=Path, help="folder of dashboard specs (default: dashboards/)")
    dash.set_defaults(func=_dashboards)
    return parser


def _write_traceback(argv: list[str]) -> Path | None:
    """The current exception's traceback in $CSTRACK_HOME/logs/, for a bug report; None if it cannot be written."""
    import traceback
    from datetime import datetime

    try:
        from cstrack import config

        logs = config.home() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"error-{datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}.log"
        path.write_text(f"cstrack {' '.join(argv)}\n\n{traceback.format_exc()}", encoding="utf-8")
        return path
    except Exception:  # noqa: BLE001 -- the error being reported matters more than its log
        return None


def main(argv: list[str] | None = None) -> int:
    """The one error boundary: every failure ends in one line `cstrack: error: <what>: <why>` and exit
    code 2; the traceback of an unexpected one goes to $CSTRACK_HOME/logs/ (on stderr with --debug)."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("cstrack: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 -- the boundary: nothing reaches the user as a traceback
        if args.debug:
            import traceback

            traceback.print_exc()
        line = f"cstrack: error: {one_line(exc)}"
        if not isinstance(exc, CstrackError):  # an expected failure's line says it all; a bug needs its traceback
            log = _write_traceback(argv)
            if log is not None:
                line += f" (traceback: {log})"
        print(line, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
