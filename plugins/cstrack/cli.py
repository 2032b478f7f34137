"""`cstrack`: one CLI for every step; each command exits non-zero with a one-line reason on failure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cstrack.errors import CstrackError


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
    from cstrack import warehouse

    if args.kind != "social" and args.file is None:
        raise CstrackError(f"load {args.kind} needs the {'mapping' if args.kind == 'catalogue' else 'codebook'} and the FILE")
    wh = warehouse.current()
    warehouse.migrate(wh)
    if args.kind == "catalogue":
        from cstrack.sources.catalogue import load_catalogue

        result = load_catalogue(args.definition, args.file, wh)
    elif args.kind == "survey":
        from cstrack.sources.survey import load_survey

        result = load_survey(args.definition, args.file, wh)
    else:
        from cstrack.sources.social import load_social

        if args.format is None:
            raise CstrackError("load social needs --format (twitter_v2, mastodon or lynguo)")
        result = load_social(args.format, args.definition, wh)
    print(result.summary())
    return 0


def _build(args) -> int:
    from cstrack import publish

    publish.build()
    return 0


def _report(args) -> int:
    from cstrack import report

    print(f"report written to {report.write_report()}")
    return 0


def _refresh(args) -> int:
    from cstrack import config, orchestration, pipeline, publish, report, warehouse

    wh = warehouse.current()
    warehouse.migrate(wh)
    if args.no_airflow:
        pipeline.load_catalogue_inbox(wh)
        publish.build(wh)
        report.write_report(wh)
    else:
        orchestration.run_dag("warehouse_refresh", wh)
    summary = report.read_marts(wh)
    total = sum(n for _, n in summary["by_status"])
    print(f"published {total} projects from {len(summary['by_source'])} catalogues")
    print(f"report: {config.report_dir() / 'index.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cstrack", description="CS Track citizen-science warehouse")
    commands = parser.add_subparsers(dest="command", required=True)

    wh = commands.add_parser("warehouse", help="start, stop or inspect the embedded warehouse")
    wh.add_argument("action", choices=["start", "stop", "status", "url"])
    wh.set_defaults(func=_warehouse)

    load = commands.add_parser(
        "load",
        help="load one source file into raw",
        description="cstrack load catalogue MAPPING FILE | load survey CODEBOOK FILE | load social --format F FILE",
    )
    load.add_argument("kind", choices=["catalogue", "survey", "social"])
    load.add_argument("definition", type=Path, help="the mapping or codebook (for social: the file itself)")
    load.add_argument("file", type=Path, nargs="?", help="the export to load")
    load.add_argument("--format", choices=["twitter_v2", "mastodon", "lynguo"], help="social posts' format")
    load.set_defaults(func=_load)

    build = commands.add_parser("build", help="dbt build into marts_build, quality gate, publish to marts")
    build.set_defaults(func=_build)

    report = commands.add_parser("report", help="write the static HTML report from marts")
    report.set_defaults(func=_report)

    refresh = commands.add_parser("refresh", help="run the whole warehouse_refresh DAG")
    refresh.add_argument("--no-airflow", action="store_true", help="call the steps directly, without Airflow")
    refresh.set_defaults(func=_refresh)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CstrackError as exc:
        print(f"cstrack: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cstrack: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
