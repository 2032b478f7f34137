"""The crawler of docs/design-notes.md §6.2: platforms in `catalogues/platforms.yml`, pages into `raw.crawl_page`,
projects extracted from the stored pages into `raw.catalogue_record` (kind "crawl").

Two steps, so a parser can change without re-crawling:
1. crawl: fetch a platform's pages politely (crawl_fetch.Fetcher) and store every fetch;
2. extract: read the pages of the platform's latest crawl from the warehouse and load their projects
   as one snapshot (one ops.load_run) through `loading.Load`; unchanged pages read by an unchanged
   parser are a no-op. A project count below half of the previous crawl's is flagged in ops.crawl_run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import soupsieve

from cstrack import config, specs, warehouse
from cstrack.errors import CstrackError
from cstrack.ingest import crawl_extract as extract
from cstrack.ingest.catalogue import RECORDS_TABLE
from cstrack.ingest.crawl_fetch import CrawlSettings, Fetch, Fetcher, Previous
from cstrack.ingest.loading import Load, LoadResult, print_progress
from cstrack.ingest.parsing import parse_country, parse_language
from cstrack.ingest.text import snippet

METHODS = ("eucs_api", "jsonld", "html")
PLATFORM_KEYS = {"id", "name", "base_url", "country", "language", "method", "allow_private", "multilingual",
                 "delay", "max_pages", "licence", "notes", *METHODS}  # fmt: skip
METHOD_OPTIONS = {
    "eucs_api": {"api_path", "params"},
    "jsonld": {"listing_urls", "link_selector", "next_selector", "types"},
    "html": {"listing_urls", "link_selector", "next_selector", "fields"},
}
FLUSH_EVERY = 50  # pages buffered before one COPY into raw.crawl_page
PARSER_HASH = hashlib.sha256(Path(extract.__file__).read_bytes()).hexdigest()  # a changed parser re-extracts


@dataclass(frozen=True)
class Platform:
    id: str
    name: str
    base_url: str
    country: str
    language: str
    method: str
    options: dict = field(default_factory=dict, hash=False)
    allow_private: bool = False  # may it point at 127.0.0.1 and other private addresses (tests, the demo)
    multilingual: bool = False  # projects in many languages: `language` is not a default for records
    delay: float | None = None  # seconds between requests to its host, when more than the crawl's default
    max_pages: int = 2000

    def definition_hash(self) -> str:
        """What extraction depends on (not base_url: pages carry their own URLs), and the parser's code."""
        spec = {
            "method": self.method, "options": self.options, "language": self.language,
            "multilingual": self.multilingual, "parser": PARSER_HASH,
        }  # fmt: skip
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def start_url(self, path: str) -> str:
        return urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/")) if not re.match(r"^https?://", path) else path


def platforms_file() -> Path:
    return config.project_dir() / "catalogues" / "platforms.yml"


def load_platforms(path: str | Path | None = None) -> list[Platform]:
    """Read and validate the platform registry; a problem names the file, the platform and the key."""
    path = Path(path) if path else platforms_file()
    if not path.is_file():
        raise CstrackError(f"{path}: platform registry not found")
    spec, _ = specs.read_yaml(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("platforms"), list):
        raise CstrackError(f"{path}: the registry is a YAML object with a `platforms` list")
    # the checks below name the platform by its id; the schema then catches the wrong types they let through
    platforms = [platform_from_spec(item, f"{path}: platform {i}") for i, item in enumerate(spec["platforms"], start=1)]
    specs.validate(spec, "platform_registry.schema.json", str(path))
    seen = set()
    for platform in platforms:
        if platform.id in seen:
            raise CstrackError(f"{path}: platform id {platform.id!r} appears twice")
        seen.add(platform.id)
    return platforms


def platform_from_spec(item: Any, where: str) -> Platform:
    if not isinstance(item, dict):
        raise CstrackError(f"{where}: a platform is an object with id, name, base_url, country, language, method")
    if isinstance(item.get("id"), str):
        where = f"{where.rsplit(': platform', 1)[0]}: platform {item['id']!r}"
    for key in ("id", "name", "base_url", "country", "language", "method"):
        if item.get(key) in (None, ""):
            raise CstrackError(f"{where}: missing required key `{key}`")
    unknown = set(item) - PLATFORM_KEYS
    if unknown:
        raise CstrackError(f"{where}: unknown key(s) {sorted(unknown)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(item["id"])):
        raise CstrackError(f"{where}: id must be lower_snake_case")
    parts = urlsplit(str(item["base_url"]))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CstrackError(f"{where}: base_url {item['base_url']!r} is not an http(s) address")
    try:
        country = parse_country(str(item["country"]))
        language = parse_language(str(item["language"]))
    except ValueError as exc:
        raise CstrackError(f"{where}: {exc}") from None
    method = item["method"]
    if method not in METHODS:
        raise CstrackError(f"{where}: method {method!r} is not one of {', '.join(METHODS)}")
    options = item.get(method) or {}
    _check_options(where, method, options)
    for flag in ("allow_private", "multilingual"):
        if not isinstance(item.get(flag, False), bool):
            raise CstrackError(f"{where}: `{flag}` must be true or false")
    delay, max_pages = item.get("delay"), item.get("max_pages", 2000)
    if delay is not None and (not isinstance(delay, (int, float)) or delay < 0):
        raise CstrackError(f"{where}: `delay` must be a number of seconds >= 0")
    if not isinstance(max_pages, int) or max_pages < 1:
        raise CstrackError(f"{where}: `max_pages` must be a positive integer")
    return Platform(
        id=item["id"], name=str(item["name"]), base_url=str(item["base_url"]), country=country, language=language,
        method=method, options=options, allow_private=item.get("allow_private", False),
        multilingual=item.get("multilingual", False), delay=delay, max_pages=max_pages,
    )  # fmt: skip


def _check_options(where: str, method: str, options: Any) -> None:
    if not isinstance(options, dict):
        raise CstrackError(f"{where}: `{method}` options must be an object")
    unknown = set(options) - METHOD_OPTIONS[method]
    if unknown:
        raise CstrackError(
            f"{where}: unknown `{method}` option(s) {sorted(unknown)}; allowed: {sorted(METHOD_OPTIONS[method])}"
        )
    if method == "eucs_api":
        if not isinstance(options.get("params", {}), dict):
            raise CstrackError(f"{where}: `eucs_api.params` must be an object of query parameters")
        return
    listing = options.get("listing_urls")
    if not isinstance(listing, list) or not listing or not all(isinstance(u, str) for u in listing):
        raise CstrackError(f"{where}: `{method}.listing_urls` must be a non-empty list of addresses")
    if method == "html" and not options.get("link_selector"):
        raise CstrackError(f"{where}: `html.link_selector` is required (the CSS selector of project links)")
    selectors = {k: options[k] for k in ("link_selector", "next_selector") if options.get(k)}
    if method == "html":
        fields = options.get("fields")
        if not isinstance(fields, dict) or "title" not in fields:
            raise CstrackError(
                f"{where}: `html.fields` must be an object of canonical field: CSS selector, with `title`"
            )
        bad = set(fields) - set(extract.RECORD_FIELDS) - {"contact"}
        if bad:
            raise CstrackError(f"{where}: `html.fields`: {sorted(bad)} not canonical field(s)")
        selectors.update({f"fields.{k}": str(v).partition("@")[0] for k, v in fields.items()})
    for key, selector in selectors.items():
        try:
            soupsieve.compile(selector)
        except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as exc:
            raise CstrackError(
                f"{where}: `{method}.{key}`: not a valid CSS selector {selector!r}: {str(exc).splitlines()[0]}"
            ) from None


# --- crawling ---------------------------------------------------------------------------------------


@dataclass
class CrawlResult:
    platform: str
    crawl_id: int
    status: str  # succeeded | failed
    pages: Counter = field(default_factory=Counter)  # outcome -> count
    requests: int = 0
    message: str | None = None
    load: LoadResult | None = None
    flagged: bool = False
    flag_reason: str | None = None

    def summary(self) -> str:
        p = self.pages
        text = (
            f"crawl {self.platform}: {p['fetched']} pages fetched, {p['not_modified']} not modified (304), "
            f"{p['failed']} failed, {p['oversized']} oversized, {p['disallowed']} disallowed by robots.txt, "
            f"{p['refused']} refused; {self.requests} requests"
        )
        if self.status == "failed":
            return f"{text}; FAILED: {self.message}"
        if self.load is not None:
            how = "unchanged, nothing to load" if self.load.skipped else f"{self.load.rows_quarantined} quarantined"
            text += f"; {self.load.rows_loaded} projects extracted ({how}, load {self.load.load_id})"
        if self.flagged:
            text += f"; FLAGGED: {self.flag_reason}"
        return text

    def as_dict(self) -> dict:
        return {
            "platform": self.platform, "crawl_id": self.crawl_id, "status": self.status, "pages": dict(self.pages),
            "requests": self.requests, "message": self.message,
            "projects": self.load.rows_loaded if self.load else None,
            "load_id": self.load.load_id if self.load else None, "flagged": self.flagged,
            "flag_reason": self.flag_reason,
        }  # fmt: skip


class PageStore:
    """raw.crawl_page for one crawl: the last stored fetch of each URL (conditional GET) and COPY in batches."""

    def __init__(self, wh: warehouse.Warehouse, platform: Platform, crawl_id: int):
        self.wh, self.platform, self.crawl_id = wh, platform, crawl_id
        self.buffer: list[tuple] = []
        self.row = 0
        with warehouse.connect(wh) as conn:
            rows = conn.execute(
                "select distinct on (url) url, headers ->> 'etag', headers ->> 'last-modified', content_hash"
                " from raw.crawl_page where platform = %s and outcome = 'fetched'"
                " order by url, _crawl_id desc, _source_row desc",
                (platform.id,),
            ).fetchall()
        self.last = {url: (etag, modified, digest) for url, etag, modified, digest in rows}

    def previous(self, url: str) -> Previous | None:
        if url not in self.last:
            return None
        etag, modified, digest = self.last[url]
        return Previous(etag, modified, digest, lambda: self._body(url, digest))

    def _body(self, url: str, digest: str) -> bytes:
        with warehouse.connect(self.wh) as conn:
            row = conn.execute(
                "select body from raw.crawl_page where platform = %s and url = %s and content_hash = %s"
                " and body is not null order by _crawl_id desc limit 1",
                (self.platform.id, url, digest),
            ).fetchone()
        return bytes(row[0]) if row else b""

    def add(self, fetch: Fetch, kind: str) -> None:
        self.row += 1
        body = fetch.body if fetch.outcome == "fetched" else None
        self.buffer.append((
            self.crawl_id, fetch.url, self.row, self.platform.id, fetch.url, kind, fetch.outcome, fetch.status,
            json.dumps(fetch.headers) if fetch.headers else None, fetch.content_hash, body,
            len(fetch.body) if fetch.body is not None else None, fetch.attempts, fetch.error,
            datetime.now(UTC),
        ))  # fmt: skip
        if len(self.buffer) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        with (
            warehouse.connect(self.wh) as conn,
            conn.transaction(),
            conn.cursor().copy(
                "copy raw.crawl_page (_crawl_id, _source, _source_row, platform, url, page_kind, outcome, status,"
                " headers, content_hash, body, bytes, attempts, error, fetched_at) from stdin"
            ) as copy,
        ):
            for row in self.buffer:
                copy.write_row(row)
        self.buffer = []


class PlatformCrawl:
    """Walks one platform with its method, storing every fetch."""

    def __init__(self, platform: Platform, fetcher: Fetcher, store: PageStore, progress):
        self.platform, self.fetcher, self.store, self.progress = platform, fetcher, store, progress
        self.pages: Counter = Counter()
        self.host = (urlsplit(platform.base_url).hostname or "").removeprefix("www.")

    def visit(self, url: str, kind: str) -> Fetch:
        fetch = self.fetcher.fetch(url, self.store.previous(url))
        self.store.add(fetch, kind)
        self.pages[fetch.outcome] += 1
        if self.progress and sum(self.pages.values()) % 100 == 0:
            self.progress(f"  {self.platform.id}: {sum(self.pages.values())} pages ({self.pages['fetched']} fetched)")
        return fetch

    def refuse(self, url: str, kind: str, reason: str) -> None:
        self.store.add(Fetch(url, "refused", error=reason), kind)
        self.pages["refused"] += 1

    def run(self) -> str | None:
        """Crawl; returns why the platform could not be crawled at all, or None."""
        if self.platform.method == "eucs_api":
            return self._api()
        return self._listings()

    def _api(self) -> str | None:
        opts = self.platform.options
        url = self.platform.start_url(opts.get("api_path", "/api/projects/"))
        if opts.get("params"):
            url += ("&" if "?" in url else "?") + urlencode(opts["params"])
        seen: set[str] = set()
        while url and url not in seen and len(seen) < self.platform.max_pages:
            seen.add(url)
            fetch = self.visit(url, "api")
            if not fetch.ok:
                # without this page there is no `next`: the pages so far are kept, the failure is recorded
                return f"{url}: {fetch.error}" if len(seen) == 1 else None
            url = extract.eucs_next(fetch.body, url)
        return None

    def _listings(self) -> str | None:
        opts = self.platform.options
        queue = [self.platform.start_url(u) for u in opts["listing_urls"]]
        seen: set[str] = set()
        projects: list[str] = []
        errors = []
        link_selector = opts.get("link_selector") or "a[href]"
        while queue and len(seen) < self.platform.max_pages:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            fetch = self.visit(url, "listing")
            if not fetch.ok:
                errors.append(f"{url}: {fetch.error}")
                continue
            projects.extend(u for u in extract.links(fetch.body, url, link_selector) if u not in projects)
            if opts.get("next_selector"):
                queue.extend(u for u in extract.links(fetch.body, url, opts["next_selector"])[:1] if u not in seen)
        if errors and len(errors) == len(seen):
            return errors[0]  # not one listing page: nothing to crawl
        for url in projects[: max(0, self.platform.max_pages - len(seen))]:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https"):
                self.refuse(url, "project", f"scheme {parts.scheme!r} is not http or https")
            elif (parts.hostname or "").removeprefix("www.") != self.host:
                self.refuse(url, "project", f"{parts.hostname} is not the platform's host {self.host}")
            else:
                self.visit(url, "project")
        return None


def crawl_platform(
    platform: Platform,
    wh: warehouse.Warehouse,
    settings: CrawlSettings | None = None,
    progress: Callable[[str], None] | None = print_progress,
) -> CrawlResult:
    """Crawl one platform, store its pages, extract its projects; a failed crawl is recorded, not raised."""
    settings = settings or CrawlSettings()
    with warehouse.connect(wh) as conn:
        crawl_id = conn.execute(
            "insert into ops.crawl_run (platform, method, base_url,"
            " status) values (%s, %s, %s, 'running') returning crawl_id",
            (platform.id, platform.method, platform.base_url),
        ).fetchone()[0]
    store = PageStore(wh, platform, crawl_id)
    interval = max(settings.min_interval, platform.delay or 0)
    with Fetcher(settings, allow_private=platform.allow_private, min_interval=interval) as fetcher:
        walker = PlatformCrawl(platform, fetcher, store, progress)
        try:
            failure = walker.run()
        except Exception as exc:  # a bug or a lost database must not leave the run 'running'
            failure = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            store.flush()
            p = walker.pages
            with warehouse.connect(wh) as conn:
                conn.execute(
                    "update ops.crawl_run set status = %s, requests = %s, pages_fetched = %s, pages_not_modified = %s,"
                    " pages_failed = %s, pages_oversized = %s, pages_disallowed = %s, pages_refused = %s, message = %s,"
                    " finished_at = now() where crawl_id = %s",
                    ("failed" if failure else "succeeded", fetcher.requests, p["fetched"], p["not_modified"],
                     p["failed"], p["oversized"], p["disallowed"], p["refused"], failure, crawl_id),
                )  # fmt: skip
    result = CrawlResult(
        platform.id, crawl_id, "failed" if failure else "succeeded", walker.pages, fetcher.requests, failure
    )
    if not failure:
        result.load = extract_platform(platform, wh, crawl_id, progress=progress)
        result.flagged, result.flag_reason = _flag(wh, crawl_id)
    if progress:
        progress(result.summary())
    return result


def crawl_platforms(
    platforms: list[Platform],
    wh: warehouse.Warehouse | None = None,
    settings: CrawlSettings | None = None,
    progress: Callable[[str], None] | None = print_progress,
) -> list[CrawlResult]:
    """Crawl each platform in turn; one platform's failure does not stop the others."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    return [crawl_platform(p, wh, settings, progress) for p in platforms]


def select(platforms: list[Platform], ids: list[str] | None) -> list[Platform]:
    if not ids:
        return platforms
    known = {p.id: p for p in platforms}
    missing = [i for i in ids if i not in known]
    if missing:
        raise CstrackError(f"unknown platform(s) {', '.join(missing)}; known: {', '.join(known)}")
    return [known[i] for i in ids]


def raise_for_failures(results: list[CrawlResult]) -> None:
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise CstrackError(
            f"crawl failed for {len(failed)} of {len(results)} platform(s): "
            + "; ".join(f"{r.platform}: {r.message}" for r in failed)
        )


def crawl(
    wh: warehouse.Warehouse | None = None,
    platform_ids: list[str] | None = None,
    registry: str | Path | None = None,
    settings: CrawlSettings | None = None,
    progress: Callable[[str], None] | None = print_progress,
) -> list[CrawlResult]:
    """Crawl the platforms of the registry (all, or `platform_ids`); raises after all ran if any failed."""
    results = crawl_platforms(select(load_platforms(registry), platform_ids), wh, settings, progress)
    raise_for_failures(results)
    return results


# --- extraction on stored pages ---------------------------------------------------------------------


def _latest_crawl(wh: warehouse.Warehouse, platform_id: str) -> tuple[int, str] | None:
    with warehouse.connect(wh) as conn:
        return conn.execute(
            "select crawl_id, base_url from ops.crawl_run where platform = %s and status = 'succeeded'"
            " order by crawl_id desc limit 1",
            (platform_id,),
        ).fetchone()


# the pages of one crawl that hold projects, each with the body of the last stored fetch of its URL
# (a 304 confirms an earlier body; a page that failed this time is read from its last good copy)
_PAGES_SQL = """
select p._source_row, p.url, p.outcome, p.error, b.content_hash, {body}
from raw.crawl_page p
left join lateral (
    select s.content_hash, s.body from raw.crawl_page s
    where s.platform = p.platform and s.url = p.url and s.outcome = 'fetched' and s._crawl_id <= p._crawl_id
      and (p.outcome <> 'not_modified' or s.content_hash = p.content_hash)
    order by s._crawl_id desc, s._source_row desc limit 1
) b on p.outcome in ('fetched', 'not_modified', 'failed')
where p._crawl_id = %s and p.page_kind in ('api', 'project')
  and (p.outcome = 'oversized' or b.content_hash is not null)
order by p._source_row
"""


def extract_platform(
    platform: Platform,
    wh: warehouse.Warehouse,
    crawl_id: int | None = None,
    progress: Callable[[str], None] | None = print_progress,
) -> LoadResult:
    """Extract the projects of a crawl's stored pages (default: the platform's latest) as one snapshot.

    No HTTP: only raw.crawl_page is read. Pages that hold no readable project list are quarantined
    with their URL and the reason, so pages' records + quarantined = rows read.
    """
    if crawl_id is None:
        latest = _latest_crawl(wh, platform.id)
        if latest is None:
            raise CstrackError(
                f"platform {platform.id}: no stored crawl to extract; run `cstrack crawl --platform {platform.id}`"
            )
        crawl_id = latest[0]
    with warehouse.connect(wh) as conn:
        base_url = conn.execute("select base_url from ops.crawl_run where crawl_id = %s", (crawl_id,)).fetchone()[0]
        index = conn.execute(_PAGES_SQL.format(body="null"), (crawl_id,)).fetchall()
    # what the load is a snapshot of: page addresses relative to the platform, so that a platform served
    # from another address (the demo's ephemeral ports) with the same pages is the same snapshot
    origin = base_url.rstrip("/")
    snapshot = "\n".join(
        f"{url.removeprefix(origin)} {outcome == 'oversized'} {digest}" for _, url, outcome, _, digest, _ in index
    )
    canon = extract.Canonicaliser(None if platform.multilingual else platform.language)

    def rows() -> Iterator[tuple]:
        first_seen: dict[str, str] = {}
        with warehouse.connect(wh) as conn, conn.transaction():
            cursor = conn.cursor(name="crawl_pages")  # server-side: bodies stream, they are not all in memory
            cursor.execute(_PAGES_SQL.format(body="b.body"), (crawl_id,))
            for _, url, outcome, error, _, body in cursor:
                if outcome == "oversized":
                    yield None, None, error or "page larger than the size cap", None, None, url
                    continue
                page = extract_page(platform, url, bytes(body), canon)
                if page.problem:
                    yield None, None, page.problem, None, snippet(body, 300), url
                for position, reason in page.rejected:
                    yield position, None, reason, "title", None, url
                for position, project in enumerate(page.projects, start=1):
                    if project.record_id in first_seen:
                        reason = f"duplicate id {project.record_id!r} (first on {first_seen[project.record_id]})"
                        yield position, None, reason, "id", project.record_id, url
                        continue
                    first_seen[project.record_id] = url
                    values = (project.record_id, project.record, project.pii, project.source_data)
                    yield position, values, None, None, None, url

    load = Load(
        "crawl",
        platform.id,
        platform.definition_hash(),
        content_hash=hashlib.sha256(snapshot.encode()).hexdigest(),
        source_file=f"{base_url} (crawl {crawl_id})",
        snapshot=True,
    )
    # text COPY (values from to_values); ids repeated within a crawl are quarantined above, with their page
    records = dataclasses.replace(RECORDS_TABLE, column_types=None, duplicate_key=None)
    result = load.run(
        records,
        rows(),
        to_values=lambda v: (
            platform.id,
            v[0],
            json.dumps(v[1]),
            json.dumps(v[2]) if v[2] else None,
            json.dumps(v[3], default=str),
        ),
        unmapped=canon.unmapped,
        wh=wh,
        progress=progress,
    )
    with warehouse.connect(wh) as conn:
        conn.execute(
            "update ops.crawl_run set projects = %s, load_id = %s where crawl_id = %s",
            (result.rows_loaded, result.load_id, crawl_id),
        )
    return result


def extract_page(platform: Platform, url: str, body: bytes, canon: extract.Canonicaliser) -> extract.PageResult:
    """One stored page's projects, with the platform's method."""
    if platform.method == "eucs_api":
        return extract.extract_eucs(url, body, canon)
    if platform.method == "jsonld":
        types = platform.options.get("types") or extract.JSONLD_PROJECT_TYPES
        return extract.extract_jsonld(url, body, canon, types)
    return extract.extract_html(url, body, canon, platform.options["fields"])


def _flag(wh: warehouse.Warehouse, crawl_id: int) -> tuple[bool, str | None]:
    """Flag the crawl when its project count is below half of the platform's previous crawl's."""
    with warehouse.connect(wh) as conn:
        platform, projects = conn.execute(
            "select platform, projects from ops.crawl_run where crawl_id = %s", (crawl_id,)
        ).fetchone()
        previous = conn.execute(
            "select crawl_id, projects, started_at from ops.crawl_run where platform = %s and crawl_id < %s"
            " and status = 'succeeded' and projects is not null order by crawl_id desc limit 1",
            (platform, crawl_id),
        ).fetchone()
        flagged, reason = False, None
        if previous is not None and projects is not None and projects * 2 < previous[1]:
            flagged = True
            reason = (
                f"{projects} projects against {previous[1]} in crawl {previous[0]} of "
                f"{previous[2]:%Y-%m-%d}: down by more than half"
            )
        conn.execute(
            "update ops.crawl_run set previous_projects = %s, flagged = %s, flag_reason = %s where crawl_id = %s",
            (previous[1] if previous else None, flagged, reason, crawl_id),
        )
    return flagged, reason


def reextract(
    wh: warehouse.Warehouse | None = None,
    platform_ids: list[str] | None = None,
    platforms: list[Platform] | None = None,
    progress: Callable[[str], None] | None = print_progress,
) -> list[LoadResult]:
    """Re-parse the stored pages of each platform's latest crawl with today's parser: no HTTP request.

    Platforms come from the registry (or `platforms`); without ids, every one that has a stored crawl.
    """
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    chosen = select(platforms if platforms is not None else load_platforms(), platform_ids)
    if not platform_ids:
        chosen = [p for p in chosen if _latest_crawl(wh, p.id) is not None]
        if not chosen:
            raise CstrackError("no stored crawl to re-extract: run `cstrack crawl` first")
    results = []
    for platform in chosen:
        result = extract_platform(platform, wh, progress=progress)
        flagged, reason = _flag(wh, _latest_crawl(wh, platform.id)[0])
        if progress:
            progress(result.summary() + (f"; FLAGGED: {reason}" if flagged else ""))
        results.append(result)
    return results
