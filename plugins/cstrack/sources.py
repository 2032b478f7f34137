"""The source kinds, declared once. The CLI, the DAGs, the refresh pipeline, the build planner and the quality
gates read this list; adding a kind is its entry here, its module in `ingest/`, its migration and its dbt models
(docs/onboarding-a-source.md walks through one).

Loaders are named as "module:function" so that this list imports nothing: every stage can read it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Source:
    kind: str  # ops.load_run.source_kind of its loads
    dbt_source: str  # the dbt source its raw tables feed (dbt/models/staging/<dbt_source>/)
    raw_tables: tuple[str, ...]  # tables of `raw` it writes; the raw gate validates their new loads
    load_inbox: str  # "module:function", called with the warehouse: load what is new, return LoadResults
    dag_id: str  # its ingest DAG
    task_id: str  # its task, in the ingest DAG and in warehouse_refresh
    schedule: str
    description: str  # the ingest DAG's doc
    inbox_folder: str | None = None  # under $CSTRACK_INBOX; None: not read from the inbox (the crawl)
    definition: str | None = None  # what `cstrack load KIND` needs beside the file: "mapping", "codebook", None
    load_file: str | None = None  # "module:function" behind `cstrack load KIND`; None: no single-file load
    retries: int = 2
    retry_delay: timedelta = timedelta(seconds=30)
    # a load of this kind may change project keys and every link to them: the next build is a full one;
    # otherwise the build rebuilds only what the dbt selector `changed_<dbt_source>` (dbt/selectors.yml) picks
    full_rebuild: bool = False
    # a module that enriches this kind's loads after landing (they stay held until then): enrichment_parts(wh),
    # enrich_months(months, wh), publish_enriched(wh), enrich_pending(wh); the DAGs map a task over the parts
    enrichment: str | None = None

    def loader(self) -> Callable:
        return resolve(self.load_inbox)

    def enrichment_steps(self):
        """The module named by `enrichment`."""
        return importlib.import_module(self.enrichment)


def resolve(name: str) -> Callable:
    """The function behind "module:function"."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


SOURCES = (
    Source(
        kind="catalogue",
        dbt_source="catalogue",
        raw_tables=("catalogue_record",),
        load_inbox="cstrack.ingest.catalogue:load_catalogue_inbox",
        dag_id="ingest_catalogues",
        task_id="load_catalogues",
        schedule="@daily",
        description="Load new catalogue exports from the inbox (`$CSTRACK_INBOX/catalogues/`) into raw through "
        "the mapping named like each file (`catalogues/<source>.yml`). An export already loaded is skipped, so "
        "the daily run costs nothing when nothing changed.",
        inbox_folder="catalogues",
        definition="mapping",
        load_file="cstrack.ingest.catalogue:load_catalogue",
        full_rebuild=True,
    ),
    Source(
        kind="crawl",
        dbt_source="catalogue",
        raw_tables=("crawl_page", "catalogue_record"),
        load_inbox="cstrack.orchestration.pipeline:crawl_step",
        dag_id="ingest_crawl",
        task_id="crawl_platforms",
        schedule="0 3 1,15 * *",
        description="Crawl the citizen-science platforms of `catalogues/platforms.yml` twice a month (as CS Track "
        "ran it; CSTRACK_CRAWL=demo crawls the bundled demo sites, off skips it). Pages go to raw.crawl_page "
        "(conditional GET: unchanged pages are not downloaded again), their projects to raw.catalogue_record; a "
        "platform whose project count fell by more than half is flagged in ops.crawl_run. A platform that cannot "
        "be crawled fails the task after the others were crawled; a retry re-crawls politely (304s).",
        retries=1,
        retry_delay=timedelta(minutes=30),
        full_rebuild=True,
    ),
    Source(
        kind="survey",
        dbt_source="survey",
        raw_tables=("survey_answer", "survey_respondent", "survey_item", "survey_free_text"),
        load_inbox="cstrack.ingest.survey:load_survey_inbox",
        dag_id="ingest_survey",
        task_id="load_surveys",
        schedule="@daily",
        description="Load new survey exports from the inbox (`$CSTRACK_INBOX/surveys/`) into raw through their "
        "codebooks (`surveys/<codebook>.yml`, matched by file-name prefix). An export already loaded is skipped "
        "(content hash), so each file loads once however often the DAG runs.",
        inbox_folder="surveys",
        definition="codebook",
        load_file="cstrack.ingest.survey:load_survey",
    ),
    Source(
        kind="social",
        dbt_source="social",
        raw_tables=("social_post",),
        load_inbox="cstrack.ingest.social.load:load_social_inbox",
        dag_id="ingest_social",
        task_id="load_social",
        schedule="@daily",
        description="Load new social-media exports from the inbox (`$CSTRACK_INBOX/social/`: files named "
        "twitter_v2*, mastodon*, lynguo*) into raw.social_post. A file already loaded is skipped, so the daily "
        "run costs nothing when nothing changed; a new export of known posts adds newer observations.",
        inbox_folder="social",
        load_file="cstrack.ingest.social.load:load_social_file",
        enrichment="cstrack.ingest.social.enrich",
    ),
)

BY_KIND = {source.kind: source for source in SOURCES}


def dbt_sources() -> dict[str, tuple[str, ...]]:
    """dbt source -> the load kinds that feed it (e.g. catalogue <- catalogue, crawl)."""
    grouped: dict[str, tuple[str, ...]] = {}
    for source in SOURCES:
        grouped[source.dbt_source] = grouped.get(source.dbt_source, ()) + (source.kind,)
    return grouped


def raw_tables(dbt_source: str) -> list[str]:
    """The raw tables behind a dbt source, each once."""
    tables = [t for s in SOURCES if s.dbt_source == dbt_source for t in s.raw_tables]
    return list(dict.fromkeys(tables))
