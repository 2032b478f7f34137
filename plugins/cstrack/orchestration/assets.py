"""Airflow Assets for the raw tables: ingest DAGs produce them, build_marts is scheduled on them.

The URI form `postgres://host:port/database/schema/table` is what the postgres provider accepts.
"""

from airflow.sdk import Asset

CATALOGUE_RECORDS = Asset(name="raw.catalogue_record", uri="postgres://warehouse:5432/cstrack/raw/catalogue_record")
SURVEY_ANSWERS = Asset(name="raw.survey_answer", uri="postgres://warehouse:5432/cstrack/raw/survey_answer")
SOCIAL_POSTS = Asset(name="raw.social_post", uri="postgres://warehouse:5432/cstrack/raw/social_post")
# the crawl stores pages here and lands their projects in raw.catalogue_record
CRAWL_PAGES = Asset(name="raw.crawl_page", uri="postgres://warehouse:5432/cstrack/raw/crawl_page")
RAW_ASSETS = [CATALOGUE_RECORDS, SURVEY_ANSWERS, SOCIAL_POSTS, CRAWL_PAGES]
