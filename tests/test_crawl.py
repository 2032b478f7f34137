"""The crawler against real HTTP on loopback (a scripted threaded http.server that counts requests) and
the real PostgreSQL server: robots.txt, retries, conditional GET, size cap, quarantine, pagination,
re-extraction without HTTP, the drop flag, private addresses, the demo sites and the CLI."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cstrack.errors import CstrackError
from cstrack.ingest.catalogue import CANONICAL_FIELDS
from cstrack.ingest.crawl import (
    CrawlSettings,
    Platform,
    crawl_platforms,
    load_platforms,
    raise_for_failures,
    reextract,
)
from cstrack.ingest.crawl_fetch import address_problem

FAST = CrawlSettings(min_interval=0.0, backoff=0.01, max_backoff=0.08, retries=2, timeout=5.0)


class Site:
    """Scripted responses per path (a list is served in turn, its last entry repeats); every request is kept."""

    def __init__(self):
        self.routes: dict[str, list] = {}
        self.requests: list[tuple[float, str, dict]] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with site.lock:
                    site.requests.append((time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()}))
                    route = site.routes.get(self.path)
                    response = (route.pop(0) if len(route) > 1 else route[0]) if route else (404, {}, b"not found")
                if callable(response):
                    response = response(self.headers)
                status, headers, body = response
                self.send_response(status)
                for name, value in headers.items():
                    if name != "Content-Length":
                        self.send_header(name, value)
                if headers.get("Content-Length") != "omit":  # omitted: the body streams until the connection closes
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, path: str, *responses) -> None:
        self.routes[path] = list(responses)

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def ok(body: bytes | str, **headers) -> tuple:
    return (
        200,
        {"Content-Type": "text/html; charset=utf-8", **headers},
        body.encode() if isinstance(body, str) else body,
    )


def api_page(items: list[dict], next_url: str | None) -> tuple:
    body = json.dumps({"count": len(items), "next": next_url, "previous": None, "results": items})
    return ok(body, **{"Content-Type": "application/json"})


def eucs_item(i: int) -> dict:
    return {
        "id": i, "name": f"Project {i}", "url": f"www.project{i}.example.org", "aim": "To count <b>bees</b>",
        "description": "<p>Citizens count bees.</p>", "keywords": [{"keyword": "bees"}],
        "status": {"status": "ongoing"},
        "topic": [{"topic": "Insects & pollinators"}], "start_date": "2019-03-01T00:00:00Z", "end_date": None,
        "country": "AT", "latitude": 48.2, "longitude": 16.37, "participationTask": ["observation"],
        "mainOrganisation": {"name": "Uni Wien", "orgType": "Academic", "contactPointEmail": f"p{i}@uni.example.org"},
        "fundingBody": [{"body": "FWF"}], "fundingProgram": "Sparkling Science",
    }  # fmt: skip


def project_page(name: str, ld_type: str = "Project", ident: str | None = None, pad: int = 0) -> str:
    ld = {"@context": "https://schema.org", "@type": ld_type, "name": name, "url": f"https://{name.lower()}.example.org",
          "inLanguage": "de", "areaServed": "Austria", "keywords": "Bienen, Wiese",
          "email": f"{name.lower()}@example.org"}  # fmt: skip
    if ident:
        ld["@id"] = ident
    return (
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head>'
        f"<body>{'x' * pad}</body></html>"
    )


def listing(*hrefs: str) -> str:
    return "<html><body>" + "".join(f'<a class="p" href="{h}">{h}</a>' for h in hrefs) + "</body></html>"


def api_platform(site: Site, **kw) -> Platform:
    spec = dict(id="test_api", name="Test API", base_url=site.url, country="europe", language="en", method="eucs_api",
                options={"api_path": "/api/projects/"}, allow_private=True, multilingual=True)  # fmt: skip
    return Platform(**{**spec, **kw})


def jsonld_platform(site: Site, **kw) -> Platform:
    spec = dict(id="test_jsonld", name="Test JSON-LD", base_url=site.url, country="AT", language="de", method="jsonld",
                options={"listing_urls": ["/projects/"], "link_selector": "a.p"}, allow_private=True)  # fmt: skip
    return Platform(**{**spec, **kw})


def crawl_one(platform, wh, settings=FAST):
    return crawl_platforms([platform], wh, settings, progress=None)[0]


def serve_api(site: Site, n: int, per_page: int = 25, absolute: bool = True) -> None:
    items = [eucs_item(i) for i in range(1, n + 1)]
    pages = [items[i : i + per_page] for i in range(0, n, per_page)] or [[]]
    for number, chunk in enumerate(pages, start=1):
        path = "/api/projects/" if number == 1 else f"/api/projects/?page={number}"
        nxt = f"/api/projects/?page={number + 1}" if number < len(pages) else None
        site.set(path, api_page(chunk, (site.url + nxt if absolute else nxt) if nxt else None))


# --- registry ---------------------------------------------------------------------------------------


def test_platform_registry_validates():
    platforms = {p.id: p for p in load_platforms()}
    assert platforms["eu_citizen_science"].method == "eucs_api"
    assert {p.method for p in platforms.values()} == {"eucs_api", "jsonld", "html"}
    assert not any(p.allow_private for p in platforms.values())


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"method": "rss"}, "platform 'x': method 'rss' is not one of"),
        ({"base_url": "ftp://example.org"}, "platform 'x': base_url 'ftp://example.org' is not an http(s) address"),
        (
            {"method": "html", "html": {"listing_urls": ["/"], "fields": {"title": "h1"}}},
            "`html.link_selector` is required",
        ),
        (
            {"jsonld": {"listing_urls": ["/"], "link_selector": "a[[["}},
            "`jsonld.link_selector`: not a valid CSS selector",
        ),
        ({"country": "Atlantis"}, "platform 'x': not a known country"),
        ({"colour": "red"}, "platform 'x': unknown key(s) ['colour']"),
    ],
)
def test_registry_errors_name_the_platform_and_key(tmp_path, entry, message):
    base = {"id": "x", "name": "X", "base_url": "https://x.example.org", "country": "AT", "language": "de",
            "method": "jsonld", "jsonld": {"listing_urls": ["/p"]}}  # fmt: skip
    path = tmp_path / "platforms.yml"
    path.write_text(json.dumps({"platforms": [{**base, **entry}]}))
    with pytest.raises(CstrackError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_platforms(path)


# --- crawling ---------------------------------------------------------------------------------------


def test_paginated_api_is_crawled_completely_into_canonical_records(server_db, site, query):
    serve_api(site, 60, per_page=25)
    result = crawl_one(api_platform(site), server_db)
    assert result.status == "succeeded"
    assert result.load.rows_read == result.load.rows_loaded == 60
    assert site.paths() == ["/robots.txt", "/api/projects/", "/api/projects/?page=2", "/api/projects/?page=3"]
    rows = query(server_db, "select source_record_id, record, pii, source_data, _source from raw.catalogue_record")
    assert sorted(int(r[0]) for r in rows) == list(range(1, 61))
    _, record, pii, source_data, source = next(r for r in rows if r[0] == "7")
    assert set(record) <= CANONICAL_FIELDS and "contact" not in record
    assert "@" not in json.dumps(record)  # contact emails only in pii
    assert pii == {"contact": "p7@uni.example.org"}
    assert source_data == eucs_item(7)
    assert source == site.url + "/api/projects/"
    assert record == {
        "title": "Project 7", "aim": "To count bees", "description": "Citizens count bees.",
        "url": "https://www.project7.example.org", "status": "ongoing", "start_date": "2019-03-01", "end_date": None,
        "countries": ["AT"], "geographic_extent": None, "latitude": 48.2, "longitude": 16.37, "language": None,
        "topics": ["Insects & pollinators"], "keywords": ["bees"], "participation_tasks": ["observation"],
        "lead_organisation": "Uni Wien", "organisation_type": "Academic", "funding": "FWF; Sparkling Science",
        "sdgs": None,  # the API has no field about a project's data: unknown, not "no"
        "data_url": None, "data_access": None, "reusable_for_research": None, "data_licence": None,
    }  # fmt: skip
    run = query(server_db, "select source_kind, source_system, rows_read, rows_loaded from ops.load_run")
    assert run == [("crawl", "test_api", 60, 60)]
    pages = query(
        server_db, "select page_kind, outcome, status, length(body) > 0 from raw.crawl_page order by _source_row"
    )
    assert pages == [("api", "fetched", 200, True)] * 3


def test_robots_txt_disallow_is_honoured(server_db, site, query):
    site.set("/robots.txt", ok("User-agent: *\nDisallow: /projects/secret\n", **{"Content-Type": "text/plain"}))
    site.set("/projects/", ok(listing("/projects/open.html", "/projects/secret.html")))
    site.set("/projects/open.html", ok(project_page("Open")))
    site.set("/projects/secret.html", ok(project_page("Secret")))
    result = crawl_one(jsonld_platform(site), server_db)
    assert "/projects/secret.html" not in site.paths()
    assert result.pages["disallowed"] == 1 and result.load.rows_loaded == 1
    assert query(server_db, "select url, error from raw.crawl_page where outcome = 'disallowed'") == [
        (site.url + "/projects/secret.html", "robots.txt disallows it")
    ]


def test_a_robots_txt_that_cannot_be_read_means_no_crawling(server_db, site):
    site.set("/robots.txt", (503, {}, b"down"))
    site.set("/api/projects/", api_page([eucs_item(1)], None))
    result = crawl_one(api_platform(site), server_db)
    assert site.paths() == ["/robots.txt"]
    assert result.status == "failed" and result.message.endswith(
        "could not be read (HTTP 503), which means no crawling"
    )


def test_429_and_5xx_are_retried_with_backoff_then_recorded_as_failed_while_the_rest_is_crawled(server_db, site, query):
    site.set("/projects/", ok(listing("/projects/a.html", "/projects/b.html", "/projects/c.html")))
    site.set("/projects/a.html", (429, {"Retry-After": "1"}, b"slow down"), ok(project_page("Alpha")))
    site.set("/projects/b.html", (503, {}, b"down"))
    site.set("/projects/c.html", (500, {}, b"oops"), ok(project_page("Gamma")))
    result = crawl_one(jsonld_platform(site), server_db)
    assert result.status == "succeeded"
    assert site.paths().count("/projects/a.html") == 2 and site.paths().count("/projects/c.html") == 2
    assert site.paths().count("/projects/b.html") == 1 + FAST.retries  # then given up
    times = [t for t, path, _ in site.requests if path == "/projects/a.html"]
    assert times[1] - times[0] >= 0.07  # Retry-After honoured (capped by max_backoff), not the 0.01 s backoff
    assert result.pages["failed"] == 1 and result.load.rows_loaded == 2
    assert query(server_db, "select url, status, attempts, error from raw.crawl_page where outcome = 'failed'") == [
        (site.url + "/projects/b.html", 503, 3, "HTTP 503 after 3 attempts")
    ]
    titles = query(server_db, "select record ->> 'title' from raw.catalogue_record order by 1")
    assert titles == [("Alpha",), ("Gamma",)]


def test_a_platform_whose_entry_page_fails_is_recorded_as_failed(server_db, site, query):
    site.set("/api/projects/", (502, {}, b"bad gateway"))
    result = crawl_one(api_platform(site), server_db)
    assert result.status == "failed" and result.load is None
    assert result.message == f"{site.url}/api/projects/: HTTP 502 after 3 attempts"
    assert query(server_db, "select status, message from ops.crawl_run") == [("failed", result.message)]
    with pytest.raises(CstrackError, match="crawl failed for 1 of 1 platform.*test_api: .*HTTP 502"):
        raise_for_failures([result])


def test_conditional_get_304_avoids_re_download(server_db, site, query):
    def conditional(body: str, etag: str):
        def respond(headers):
            if headers.get("If-None-Match") == etag:
                return (304, {"ETag": etag}, b"")
            return ok(body, ETag=etag, **{"Last-Modified": "Mon, 01 Nov 2021 08:00:00 GMT"})

        return respond

    site.set("/projects/", conditional(listing("/projects/a.html", "/projects/b.html"), '"l1"'))
    site.set("/projects/a.html", conditional(project_page("Alpha"), '"a1"'))
    site.set("/projects/b.html", conditional(project_page("Beta"), '"b1"'))
    platform = jsonld_platform(site)
    first = crawl_one(platform, server_db)
    assert first.pages["fetched"] == 3 and first.load.rows_loaded == 2
    site.requests.clear()
    second = crawl_one(platform, server_db)
    sent = {path: headers for _, path, headers in site.requests}
    assert sent["/projects/a.html"]["if-none-match"] == '"a1"'
    assert sent["/projects/a.html"]["if-modified-since"] == "Mon, 01 Nov 2021 08:00:00 GMT"
    assert second.pages == {"not_modified": 3}  # the listing's links came from its stored body
    assert second.load.skipped and second.load.load_id == first.load.load_id  # unchanged: nothing re-loaded
    stored = query(
        server_db, "select status, body is null from raw.crawl_page where _crawl_id = %s", (second.crawl_id,)
    )
    assert stored == [(304, True)] * 3


def test_oversized_and_malformed_pages_are_quarantined_with_a_reason(server_db, site, query):
    pages = {
        "big": ok(project_page("Big", pad=6000)),
        "stream": ok(project_page("Stream", pad=6000), **{"Content-Length": "omit"}),
        "event": ok(project_page("Concert", ld_type="Event")),
        "broken": ok('<script type="application/ld+json">{"@type": "Project", "name": </script>'),
        "good": ok(project_page("Good")),
    }
    site.set("/projects/", ok(listing(*(f"/projects/{name}.html" for name in pages))))
    for name, response in pages.items():
        site.set(f"/projects/{name}.html", response)
    settings = CrawlSettings(min_interval=0.0, retries=0, max_bytes=4000)
    result = crawl_one(jsonld_platform(site), server_db, settings)
    assert result.pages["oversized"] == 2
    assert (result.load.rows_read, result.load.rows_loaded, result.load.rows_quarantined) == (5, 1, 4)
    reasons = dict(query(server_db, "select source_file, reason from ops.quarantine"))
    url = site.url + "/projects/{}.html"
    assert reasons[url.format("big")] == f"page of {len(pages['big'][2])} bytes is larger than the cap of 4000 bytes"
    assert reasons[url.format("stream")] == "page is larger than the cap of 4000 bytes"
    assert reasons[url.format("event")] == "no schema.org Project/ResearchProject in the page's JSON-LD (found Event)"
    assert reasons[url.format("broken")].startswith("JSON-LD is not valid JSON")
    assert query(server_db, "select count(*) from raw.crawl_page where outcome = 'oversized' and body is null") == [
        (2,)
    ]


def test_an_api_page_that_is_not_json_is_quarantined(server_db, site, query):
    site.set("/api/projects/", ok("<html>maintenance</html>"))
    result = crawl_one(api_platform(site), server_db)
    assert (result.load.rows_read, result.load.rows_quarantined) == (1, 1)
    [(source, reason, raw)] = query(server_db, "select source_file, reason, raw_value from ops.quarantine")
    assert (source, raw) == (site.url + "/api/projects/", "<html>maintenance</html>")
    assert reason == "not valid JSON at line 1: Expecting value"


def test_a_project_listed_twice_is_loaded_once_and_the_repeat_quarantined(server_db, site, query):
    # an API whose order shifted during the crawl: page 2 repeats a project of page 1
    site.set("/api/projects/", api_page([eucs_item(1), eucs_item(2)], "/api/projects/?page=2"))
    site.set("/api/projects/?page=2", api_page([eucs_item(2), eucs_item(3), {"name": "no id"}], None))
    result = crawl_one(api_platform(site), server_db)
    assert (result.load.rows_read, result.load.rows_loaded, result.load.rows_quarantined) == (5, 3, 2)
    reasons = query(server_db, "select source_row, reason from ops.quarantine order by source_row")
    assert reasons == [
        (1, f"duplicate id '2' (first on {site.url}/api/projects/)"),
        (3, "project without an `id`"),
    ]


def test_reextraction_makes_no_request(server_db, site, query):
    serve_api(site, 30, absolute=False)
    platform = api_platform(site)
    crawl_one(platform, server_db)
    site.requests.clear()
    [same] = reextract(server_db, ["test_api"], [platform], progress=None)
    assert same.skipped  # unchanged pages, unchanged parser: a no-op
    # a changed definition (records now default to German) re-extracts from the stored pages
    [again] = reextract(server_db, ["test_api"], [api_platform(site, language="de", multilingual=False)], progress=None)
    assert not again.skipped and again.rows_loaded == 30
    assert site.requests == []
    languages = query(
        server_db,
        "select distinct record ->> 'language' from raw.catalogue_record where _load_id = %s",
        (again.load_id,),
    )
    assert languages == [("de",)]


def test_a_project_count_down_by_more_than_half_is_flagged(server_db, site, query):
    platform = api_platform(site)
    counts = []
    for n in (10, 6, 2):
        serve_api(site, n)
        result = crawl_one(platform, server_db)
        counts.append((result.load.rows_loaded, result.flagged))
    assert counts == [(10, False), (6, False), (2, True)]
    flagged = query(server_db, "select projects, previous_projects, flag_reason from ops.crawl_run where flagged")
    assert len(flagged) == 1 and flagged[0][:2] == (2, 6)
    assert flagged[0][2].startswith("2 projects against 6 in crawl ") and flagged[0][2].endswith(
        "down by more than half"
    )


def test_private_addresses_and_other_schemes_are_refused_unless_allowed(server_db, site, query):
    site.set("/api/projects/", api_page([eucs_item(1)], None))
    result = crawl_one(api_platform(site, allow_private=False), server_db)
    assert result.status == "failed" and "127.0.0.1 is a private or loopback address" in result.message
    assert site.requests == []  # not even robots.txt
    assert address_problem("http://localhost:9/x", allow_private=False).startswith("localhost is a private or loopback")
    assert address_problem("http://10.1.2.3/x", allow_private=False).startswith("10.1.2.3 is a private")
    assert address_problem("file:///etc/passwd", allow_private=True) == "scheme 'file' is not http or https"
    assert address_problem("http://127.0.0.1:9/x", allow_private=True) is None
    # allowed: the same platform crawls; a listing link to another scheme or host is refused, not fetched
    site.set(
        "/projects/",
        ok(listing("file:///etc/passwd", "http://example.org/p.html", "/projects/a.html", "/projects/r.html")),
    )
    site.set("/projects/a.html", ok(project_page("Alpha")))
    site.set("/projects/r.html", (302, {"Location": "file:///etc/passwd"}, b""))  # every redirect hop is checked too
    allowed = crawl_one(jsonld_platform(site), server_db)
    assert allowed.status == "succeeded" and allowed.pages["refused"] == 3 and allowed.load.rows_loaded == 1
    refused = query(
        server_db,
        "select url, error from raw.crawl_page where outcome = 'refused' and _crawl_id = %s",
        (allowed.crawl_id,),
    )
    assert refused == [
        ("file:///etc/passwd", "scheme 'file' is not http or https"),
        ("http://example.org/p.html", "example.org is not the platform's host 127.0.0.1"),
        (site.url + "/projects/r.html", "redirect to file:///etc/passwd: scheme 'file' is not http or https"),
    ]


def test_requests_to_one_host_are_spaced_by_the_rate_limit(server_db, site):
    site.set("/projects/", ok(listing("/projects/a.html", "/projects/b.html")))
    site.set("/projects/a.html", ok(project_page("Alpha")))
    site.set("/projects/b.html", ok(project_page("Beta")))
    crawl_one(jsonld_platform(site, delay=0.08), server_db)
    times = [t for t, _, _ in site.requests]
    assert len(times) == 4  # robots.txt, the listing, two projects
    # three gaps of 0.08 s (without the limit: a few ms); a slow arrival of one request may shorten one gap
    assert times[-1] - times[0] >= 0.15


def test_html_method_reads_fields_with_css_selectors(server_db, site, query):
    page = (
        '<html><body><h1 class="t">Wildbienen zählen</h1><div class="d">Wir zählen <b>Bienen</b>.</div>'
        '<a class="w" href="https://bienen.example.at/">Website</a>'
        '<ul class="topics"><li>Insects</li><li>Biodiversity</li></ul>'
        '<span class="s">laufend</span><span class="start">2020-04-01</span>'
        '<a class="m" href="mailto:info@bienen.example.at">Mail</a>'
        "</body></html>"
    )  # fmt: skip
    site.set("/projects/", ok(listing("/projects/bienen.html")))
    site.set("/projects/bienen.html", ok(page))
    fields = {"title": "h1.t", "description": "div.d", "url": "a.w @href", "topics": "ul.topics li",
              "status": "span.s", "start_date": "span.start", "contact": "a.m @href"}  # fmt: skip
    platform = Platform(id="test_html", name="Test HTML", base_url=site.url, country="AT", language="de", method="html",
                        options={"listing_urls": ["/projects/"], "link_selector": "a.p", "fields": fields},
                        allow_private=True)  # fmt: skip
    crawl_one(platform, server_db)
    [(record_id, record, pii)] = query(server_db, "select source_record_id, record, pii from raw.catalogue_record")
    assert record_id == site.url + "/projects/bienen.html"
    assert (record["title"], record["description"], record["url"]) == (
        "Wildbienen zählen",
        "Wir zählen Bienen.",
        "https://bienen.example.at/",
    )
    assert (record["topics"], record["status"], record["start_date"], record["language"]) == (
        ["Insects", "Biodiversity"],
        "laufend",
        "2020-04-01",
        "de",
    )
    assert pii == {"contact": "info@bienen.example.at"}


# --- demo and CLI -----------------------------------------------------------------------------------


def test_demo_crawl_lands_the_expected_records(server_db, query):
    from cstrack.demo.sites import crawl_demo

    loads = crawl_demo(server_db, progress=None)
    assert [(r.source_system, r.rows_loaded, r.rows_quarantined) for r in loads] == [
        ("demo_eu_citizen_science", 60, 0),
        ("demo_buerger_forschen", 24, 0),
    ]
    languages = query(
        server_db,
        "select count(distinct record ->> 'language') from"
        " raw.catalogue_record where source_system = 'demo_buerger_forschen'",
    )
    countries = query(server_db, "select count(distinct record -> 'countries' ->> 0) from raw.catalogue_record")
    assert languages[0][0] >= 4 and countries[0][0] >= 8
    sdgs = query(
        server_db,
        "select record -> 'sdgs' -> 0 from raw.catalogue_record"
        " where record -> 'sdgs' is not null and jsonb_typeof(record -> 'sdgs') = 'array' limit 1",
    )
    assert set(sdgs[0][0]) == {"tag", "value"}
    # served again on other ports, the same pages: nothing new to load
    assert all(r.skipped for r in crawl_demo(server_db, progress=None))


def test_cli_crawl_demo_reextract_and_one_line_errors(server_db, cstrack):
    done = cstrack("crawl", "--demo", check=True)
    assert "crawl demo_eu_citizen_science: 3 pages fetched, 0 not modified (304), 0 failed" in done.stderr
    assert "60 projects extracted" in done.stderr and "24 projects extracted" in done.stderr
    again = cstrack("crawl", "--reextract", "--demo", check=True)
    assert "already loaded" in again.stderr
    bad = cstrack("crawl", "--platform", "nope")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "cstrack: error: unknown platform(s) nope; known: " + ", ".join(p.id for p in load_platforms())
    ]
