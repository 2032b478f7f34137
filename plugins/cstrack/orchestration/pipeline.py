"""The refresh as plain functions: the DAG tasks and `cstrack refresh --no-airflow` call these, in the same order."""

from __future__ import annotations

import os

from cstrack import config, sources, warehouse
from cstrack.ingest.loading import LoadResult


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


def load_source(kind: str, wh: warehouse.Warehouse | None = None, enrich: bool = True) -> list[LoadResult]:
    """What is new for one source kind (sources.SOURCES): its inbox folder, or its crawl; then, for a kind with
    an enrichment step and unless `enrich` is false (the DAGs run it as tasks), the enrichment of what waits."""
    wh = wh or warehouse.current()
    source = sources.BY_KIND[kind]
    results = source.loader()(wh)
    if enrich and source.enrichment:
        totals = source.enrichment_steps().enrich_pending(wh)
        print(f"{kind} enrichment: {totals['posts']:,} posts, {totals['published_loads']} loads published", flush=True)
    return results


def load_everything(wh: warehouse.Warehouse) -> None:
    """Every source kind, in the registry's order, as the refresh DAG's ingest tasks do (without Airflow)."""
    for source in sources.SOURCES:
        load_source(source.kind, wh)


def sync_metabase_if_configured() -> str:
    """After a publish: provision Metabase from dashboards/*.yml when METABASE_URL is set (production);
    without a Metabase (the embedded demo) the static report is the dashboard, and this says so."""
    if not os.environ.get("METABASE_URL"):
        message = "Metabase sync: METABASE_URL is not set, nothing to sync (the static report serves the dashboards)"
        print(message, flush=True)
        return message
    from cstrack.serve import metabase

    result = metabase.sync(metabase.settings_from_env())
    print(result.summary(), flush=True)
    return result.summary()


def refresh(wh: warehouse.Warehouse) -> None:
    """The warehouse_refresh DAG's steps without Airflow: load, build and publish, then report, export, Metabase."""
    from cstrack.publish import marts
    from cstrack.serve import export, report

    load_everything(wh)
    marts.build(wh)
    report.write_report(wh)
    export.export_ppsr(wh)
    sync_metabase_if_configured()
