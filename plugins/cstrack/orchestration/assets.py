"""Airflow Assets for the raw tables of every source kind (sources.SOURCES): ingest tasks produce them,
build_marts is scheduled on any of them.

The URI form `postgres://host:port/database/schema/table` is what the postgres provider accepts.
"""

from airflow.sdk import Asset

from cstrack.constants import RAW_SCHEMA
from cstrack.sources import SOURCES, Source


def raw_asset(table: str) -> Asset:
    return Asset(name=f"{RAW_SCHEMA}.{table}", uri=f"postgres://warehouse:5432/cstrack/{RAW_SCHEMA}/{table}")


RAW_ASSETS = [raw_asset(table) for table in dict.fromkeys(t for s in SOURCES for t in s.raw_tables)]


def outlets(source: Source) -> list[Asset]:
    """What a load of `source` updates."""
    return [raw_asset(table) for table in source.raw_tables]
