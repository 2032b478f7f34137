"""The refresh as plain functions: the DAG tasks and the CLI call these."""

from __future__ import annotations

from pathlib import Path

from cstrack import config, warehouse
from cstrack.errors import CstrackError
from cstrack.ingest.loading import LoadResult, load_inbox_folder
from cstrack.ingest.catalogue import load_catalogue

DATA_SUFFIXES = {".csv", ".json", ".jsonl", ".xlsx"}


def load_catalogue_inbox(wh: warehouse.Warehouse | None = None, inbox: Path | None = None) -> list[LoadResult]:
    """Load every file in `<inbox>/catalogues/` through the mapping named like it (catalogues/<source>.yml)."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    folder = (inbox or config.inbox()) / "catalogues"
    results = load_inbox_folder(
        folder, config.project_dir() / "catalogues", DATA_SUFFIXES, lambda m, f: load_catalogue(m, f, wh), "mapping"
    )
    if not results:
        raise CstrackError(f"no catalogue files in {folder}")
    return results


def crawl_step(wh: warehouse.Warehouse | None = None) -> list[LoadResult]:
    """The refresh's crawl, as CSTRACK_CRAWL says: the demo sites, the platforms registry, or nothing."""
    wh = wh or warehouse.current()
    mode = config.crawl_mode()
    if mode == "off":
        print("crawl: off (CSTRACK_CRAWL=off)", flush=True)
        return []
    if mode == "demo":
        from cstrack.demo.sites import crawl_demo

        return crawl_demo(wh)
    from cstrack.ingest.crawl import crawl

    return [r.load for r in crawl(wh=wh) if r.load is not None]


def load_everything(wh: warehouse.Warehouse) -> None:
    """Every source of the inbox and the crawl, as the refresh DAG's ingest tasks do (without Airflow)."""
    from cstrack.ingest.social import load_social_inbox
    from cstrack.ingest.survey import load_survey_inbox

    load_catalogue_inbox(wh)
    crawl_step(wh)
    load_survey_inbox(wh)
    load_social_inbox(wh)


def sync_metabase_if_configured() -> str:
    """After a publish: provision Metabase from dashboards/*.yml when METABASE_URL is set (production);
    without a Metabase (the embedded demo) the static report is the dashboard, and this says so."""
    import os

    if not os.environ.get("METABASE_URL"):
        message = "Metabase sync: METABASE_URL is not set, nothing to sync (the static report serves the dashboards)"
        print(message, flush=True)
        return message
    from cstrack.serve import metabase

    result = metabase.sync(metabase.settings_from_env())
    print(result.summary(), flush=True)
    return result.summary()
