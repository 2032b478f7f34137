"""Polite HTTP for the crawler: robots.txt, per-host rate limit, retries with backoff, size cap,
conditional GET, and no requests to other schemes or to private addresses unless a platform allows it.

A `Fetcher` never raises for one bad page: every outcome (fetched, not_modified, failed, oversized,
disallowed, refused) comes back as a `Fetch`, so one failing page never stops a platform's crawl.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness and robustness knobs; tests shrink the delays so they run fast."""

    user_agent: str = "cstrack-crawler/0.1 (+https://github.com/cs-track/cstrack; citizen-science research)"
    timeout: float = 20.0  # seconds, per request (connect, read, write, pool)
    retries: int = 3  # extra attempts after a 429, a 5xx or a network error
    backoff: float = 1.0  # first retry delay in seconds; doubles on each retry
    max_backoff: float = 60.0  # cap on any retry delay, Retry-After included
    min_interval: float = 1.0  # seconds between two requests to the same host
    max_bytes: int = 5_000_000  # a larger page is not stored: it is quarantined as oversized


@dataclass
class Fetch:
    """One page request and how it ended; `body` is the stored copy's body on a 304."""

    url: str
    outcome: str  # fetched | not_modified | failed | oversized | disallowed | refused
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_hash: str | None = None
    attempts: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("fetched", "not_modified")


@dataclass(frozen=True)
class Previous:
    """What the last stored fetch of a URL left us for a conditional GET."""

    etag: str | None
    last_modified: str | None
    content_hash: str
    load_body: Callable[[], bytes]  # read lazily: only a 304 needs it


def address_problem(url: str, allow_private: bool) -> str | None:
    """Why `url` must not be fetched (scheme, or a private/loopback address), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if not parts.hostname:
        return "no host in the address"
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        return None  # not a refusal: the request fails as a network error, and is retried like one
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return f"{parts.hostname} is a private or loopback address ({address}); the platform does not allow_private"
    return None


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: an integer, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Fetcher:
    """One per platform crawl: shares an httpx client, robots.txt per origin and the host clocks."""

    def __init__(self, settings: CrawlSettings, allow_private: bool = False, min_interval: float | None = None):
        self.settings = settings
        self.allow_private = allow_private
        self.min_interval = settings.min_interval if min_interval is None else min_interval
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            headers={"User-Agent": settings.user_agent},
            follow_redirects=False,  # followed by hand: every hop is checked like the first
        )
        self.requests = 0
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_unread: dict[str, str] = {}  # origin -> why its robots.txt could not be read
        self._last_request: dict[str, float] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- politeness -------------------------------------------------------------------------------

    def _wait_for_host(self, url: str) -> None:
        origin = _origin(url)
        robots = self._robots.get(origin)
        delay = max(self.min_interval, float((robots and robots.crawl_delay(self.settings.user_agent)) or 0))
        wait = self._last_request.get(origin, 0.0) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request[origin] = time.monotonic()

    def robots(self, url: str) -> urllib.robotparser.RobotFileParser:
        """robots.txt of the URL's origin, read once (RFC 9309: 4xx allows all, 5xx or no answer disallows all)."""
        origin = _origin(url)
        if origin not in self._robots:
            parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
            try:
                self._wait_for_host(url)
                self.requests += 1
                response = self.client.get(origin + "/robots.txt")
                if response.status_code == 200:
                    parser.parse(response.text.splitlines())
                elif 400 <= response.status_code < 500:
                    parser.allow_all = True
                else:
                    parser.disallow_all = True
                    self._robots_unread[origin] = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                parser.disallow_all = True
                self._robots_unread[origin] = f"{type(exc).__name__}: {exc}".rstrip(": ")
            self._robots[origin] = parser
        return self._robots[origin]

    def allowed(self, url: str) -> str | None:
        """Why `url` may not be fetched (address or robots.txt), or None."""
        problem = address_problem(url, self.allow_private)
        if problem:
            return problem
        if not self.robots(url).can_fetch(self.settings.user_agent, url):
            unread = self._robots_unread.get(_origin(url))
            if unread:
                return f"robots.txt disallows it: it could not be read ({unread}), which means no crawling"
            return "robots.txt disallows it"
        return None

    # --- fetching ---------------------------------------------------------------------------------

    def fetch(self, url: str, previous: Previous | None = None) -> Fetch:
        """GET `url` politely; never raises for an HTTP or network problem."""
        problem = self.allowed(url)
        if problem:
            outcome = "disallowed" if problem.startswith("robots.txt") else "refused"
            return Fetch(url, outcome, error=problem)
        headers = {}
        if previous is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        attempts = 0
        target = url
        redirects = 0
        while True:
            attempts += 1
            self._wait_for_host(target)
            self.requests += 1
            try:
                result = self._get(target, headers)
            except httpx.HTTPError as exc:
                result = Fetch(url, "failed", error=f"{type(exc).__name__}: {exc}".rstrip(": "))
            result.url, result.attempts = url, attempts
            if result.status in REDIRECT_STATUSES and result.headers.get("location"):
                redirects += 1
                target = urljoin(target, result.headers["location"])
                problem = self.allowed(target)
                if redirects > MAX_REDIRECTS or problem:
                    reason = problem or f"more than {MAX_REDIRECTS} redirects"
                    return Fetch(
                        url,
                        "refused",
                        result.status,
                        result.headers,
                        attempts=attempts,
                        error=f"redirect to {target}: {reason}",
                    )
                attempts -= 1  # a redirect is not a retry
                continue
            retryable = result.outcome == "failed" and (result.status is None or result.status in RETRY_STATUSES)
            if not retryable or attempts > self.settings.retries:
                break
            delay = _retry_after(result.headers.get("retry-after"))
            if delay is None:
                delay = self.settings.backoff * 2 ** (attempts - 1)
            time.sleep(min(delay, self.settings.max_backoff))
        if result.outcome == "failed" and result.status is not None:
            result.error = f"HTTP {result.status} after {attempts} attempt{'s' if attempts > 1 else ''}"
        if result.status == 304:
            if previous is None:
                return Fetch(
                    url, "failed", 304, result.headers, attempts=attempts, error="304 without a conditional request"
                )
            result.outcome, result.content_hash, result.body = (
                "not_modified",
                previous.content_hash,
                previous.load_body(),
            )
        return result

    def _get(self, url: str, headers: dict[str, str]) -> Fetch:
        cap = self.settings.max_bytes
        with self.client.stream("GET", url, headers=headers) as response:
            info = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            if status == 304 or status in REDIRECT_STATUSES:
                return Fetch(url, "not_modified" if status == 304 else "failed", status, info)
            if status != 200:
                return Fetch(url, "failed", status, info)
            declared = info.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                return Fetch(
                    url,
                    "oversized",
                    status,
                    info,
                    error=f"page of {declared} bytes is larger than the cap of {cap} bytes",
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    return Fetch(url, "oversized", status, info, error=f"page is larger than the cap of {cap} bytes")
                chunks.append(chunk)
        body = b"".join(chunks)
        return Fetch(url, "fetched", status, info, body, hashlib.sha256(body).hexdigest())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
