"""Two small generated platforms served over real HTTP on 127.0.0.1, so the demo crawls for real.

- an EU-Citizen.Science style REST API: `GET /api/projects/` in DRF pages {count, next, previous,
  results} of 20, 60 projects in several countries and languages; some are projects of the bundled
  catalogues (data/sample/catalogues/) under URL variants (http/https, `www.`, trailing slash, utm_*);
- a national-portal style site whose project pages carry schema.org JSON-LD (Project/ResearchProject),
  24 projects on two listing pages; robots.txt disallows a draft page the listing links to.

Content is deterministic (seeded) and holds no port, so a second demo crawl extracts nothing new.
Both servers answer conditional GETs (ETag, Last-Modified) with 304.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cstrack import config, warehouse
from cstrack.ingest.crawl import CrawlSettings, Platform, crawl_platforms, raise_for_failures
from cstrack.ingest.loading import LoadResult, print_progress

SEED = 20211
EUCS_PROJECTS = 60
EUCS_PAGE_SIZE = 20
JSONLD_PROJECTS = 24
JSONLD_PER_LISTING = 12
LAST_MODIFIED = "Mon, 01 Nov 2021 08:00:00 GMT"
# the demo is local: no need to wait between requests
DEMO_SETTINGS = CrawlSettings(min_interval=0.0, backoff=0.05, max_backoff=0.5, timeout=10.0)

TOPICS = [
    "Agriculture & Veterinary science", "Animals", "Archaeology & Cultural", "Astronomy & Space", "Biodiversity",
    "Birds", "Climate & Weather", "Ecology & Environment", "Education", "Health & Medicine", "Insects & pollinators",
    "Ocean, Water, Marine & Terrestrial", "Nature & outdoors", "Social sciences", "Sound", "Transportation",
]  # fmt: skip
TASKS = ["observation", "photography", "data_entry", "classification_tagging", "transcription", "measurement",
         "sample_analysis", "geolocation", "identification"]  # fmt: skip
STATUSES = ["ongoing", "ongoing", "ongoing", "completed", "not started", "on hold"]
ORG_TYPES = ["Academic", "NGO", "Public administration", "Museum", "Business"]
# country, language, a description template and a few subjects in that language
LOCALES = [
    ("AT", "de", "Bürgerinnen und Bürger beobachten {s} in {c} und melden ihre Funde.",
     ["Wildbienen", "Amphibien", "Lichtverschmutzung", "Stadtbäume"]),
    ("DE", "de", "Freiwillige erfassen {s} in ganz {c} mit einer App.",
     ["Vogelstimmen", "Feinstaub", "Igel", "Mikroplastik"]),
    ("ES", "es", "Voluntarios registran {s} en {c} para la ciencia.",
     ["mosquitos", "medusas", "ruido urbano", "aves marinas"]),
    ("FR", "fr", "Les citoyens observent {s} partout en {c}.",
     ["papillons", "escargots", "qualité de l'air", "chauves-souris"]),
    ("NL", "nl", "Vrijwilligers tellen {s} in {c} en delen hun data.",
     ["tuinvogels", "zwerfvuil", "waterkwaliteit", "paddenstoelen"]),
    ("IT", "it", "I cittadini monitorano {s} in {c} con il proprio smartphone.",
     ["api", "meduse", "inquinamento luminoso", "lucciole"]),
    ("GB", "en", "Volunteers record {s} across {c} to help scientists.",
     ["hedgehogs", "moths", "river health", "street trees"]),
    ("SE", "en", "Citizens in {c} map {s} for a national survey.", ["lichens", "ice cover", "wild orchids", "beetles"]),
]  # fmt: skip
COUNTRY_NAMES = {"AT": "Österreich", "DE": "Deutschland", "ES": "España", "FR": "France", "NL": "Nederland",
                 "IT": "Italia", "GB": "the United Kingdom", "SE": "Sweden", "US": "the United States"}  # fmt: skip


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _catalogue_projects(n: int) -> list[dict]:
    """Projects of the bundled catalogues, to be listed again under another form of their URL."""
    folder = config.project_dir() / "data" / "sample" / "catalogues"
    picked = []
    for file, name, url, description, country in (
        ("awesome_cs_nl.csv", "name", "project_information_url", "description", "NL"),
        ("citizenscience_gov.csv", "project_name", "project_url", "project_description", "US"),
    ):
        path = folder / file
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r[url].startswith("http") and r[name].strip()]
        for row in rows[5 : 5 + n // 2 * 7 : 7]:
            picked.append({
                "name": " ".join(row[name].split()), "url": row[url].strip(), "country": country,
                "description": " ".join(row[description].split()),
            })  # fmt: skip
    return picked[:n]


def url_variant(url: str, i: int) -> str:
    """The same address written another way: the form entity resolution must see through."""
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    path = "/" + path
    kind = i % 4
    if kind == 0:
        return f"{'https' if scheme == 'http' else 'http'}://{host}{path}"
    if kind == 1:
        host = host[4:] if host.startswith("www.") else "www." + host
        return f"{scheme}://{host}{path}"
    if kind == 2:
        return (
            f"{scheme}://{host}"
            f"{path.rstrip('/') if path.endswith('/') and path != '/' else path + ('' if path.endswith('/') else '/')}"
        )
    return f"{url}{'&' if '?' in url else '?'}utm_source=eu-citizen.science&utm_medium=referral"


def eucs_projects(seed: int = SEED) -> list[dict]:
    """The demo API's projects in EU-Citizen.Science's field names (docs/design-notes.md §6.2)."""
    rng = random.Random(seed)
    known = _catalogue_projects(6)
    projects = []
    for i in range(EUCS_PROJECTS):
        country, language, template, subjects = LOCALES[i % len(LOCALES)]
        subject = subjects[(i // len(LOCALES)) % len(subjects)]
        name = f"{subject.capitalize()} {COUNTRY_NAMES[country].removeprefix('the ')} {2015 + i % 8}"
        url = f"https://{_slug(subject)}-{country.lower()}{i}.example.org/"
        aim = f"<p>To understand {subject} better with the help of citizens.</p>"
        description = "<p>" + escape(template.format(s=subject, c=COUNTRY_NAMES.get(country, country))) + "</p>"
        if i < len(known):  # a project of the bundled catalogues, under another form of its URL
            name, url, country = known[i]["name"], url_variant(known[i]["url"], i), known[i]["country"]
            language, aim, description = "en", None, escape(known[i]["description"])
        start = 2012 + rng.randrange(10)
        status = STATUSES[rng.randrange(len(STATUSES))]
        slug = f"p{i + 1}"
        projects.append({
            "id": 1000 + i,
            "name": name,
            "url": url,
            "aim": aim,
            "description": description,
            "keywords": [
                {"keyword": k} for k in rng.sample(["citizen science", subject, "monitoring", "app", "open data"], 3)
            ],
            "status": {"status": status},
            "topic": [{"topic": t} for t in rng.sample(TOPICS, 2)],
            "start_date": f"{start}-{rng.randrange(1, 13):02d}-01T00:00:00Z",
            "end_date": f"{start + 3}-12-31T00:00:00Z" if status == "completed" else None,
            "country": country,
            "latitude": round(rng.uniform(36.0, 60.0), 4),
            "longitude": round(rng.uniform(-9.0, 24.0), 4),
            "participationTask": rng.sample(TASKS, 2),
            "geographicextend": [rng.choice(["National", "Regional", "Local", "International"])],
            "howToParticipate": "Download the app and send your observations.",
            "equipment": "Smartphone",
            "mainOrganisation": {
                "name": f"{COUNTRY_NAMES.get(country, country).removeprefix('the ')} Citizen Science Lab {i % 5 + 1}",
                "url": f"https://lab{i % 5 + 1}.example.org",
                "orgType": rng.choice(ORG_TYPES),
                "contactPointEmail": f"contact.{slug}@lab{i % 5 + 1}.example.org",
            },
            "organisation": [],
            "fundingBody": [
                {"body": rng.choice(["European Commission", "National Science Foundation", "Regional government"])}
            ],
            "fundingProgram": rng.choice(["Horizon 2020", "SwafS", ""]),
            "doingAtHome": rng.random() < 0.5,
            "originDatabase": "",
            "originURL": "",
            "originUID": "",
            "dateCreated": f"{start}-01-15T10:00:00Z",
            "dateUpdated": "2021-10-01T10:00:00Z",
            "totalAccesses": rng.randrange(50, 5000),
            "totalLikes": rng.randrange(0, 100),
            "totalFollowers": rng.randrange(0, 50),
            "translatedProject": [] if language == "en" else [
                {"inLanguage": "en", "translatedDescription": f"Citizens record {subject} in {country}."}
            ],
        })  # fmt: skip
    return projects


def eucs_pages(seed: int = SEED) -> dict[str, bytes]:
    """path?query -> JSON body of each API page (relative `next` links: the bodies hold no port)."""
    projects = eucs_projects(seed)
    pages = {}
    n_pages = -(-len(projects) // EUCS_PAGE_SIZE)
    for number in range(1, n_pages + 1):
        page = {
            "count": len(projects),
            "next": f"/api/projects/?page={number + 1}" if number < n_pages else None,
            "previous": (f"/api/projects/?page={number - 1}" if number > 2 else "/api/projects/")
            if number > 1
            else None,
            "results": projects[(number - 1) * EUCS_PAGE_SIZE : number * EUCS_PAGE_SIZE],
        }
        path = "/api/projects/" if number == 1 else f"/api/projects/?page={number}"
        pages[path] = json.dumps(page, ensure_ascii=False).encode()
    pages["/robots.txt"] = b"User-agent: *\nDisallow: /admin/\n"
    return pages


def jsonld_projects(seed: int = SEED) -> list[dict]:
    """The JSON-LD site's projects as schema.org objects."""
    rng = random.Random(seed + 1)
    objects = []
    for i in range(JSONLD_PROJECTS):
        country, language, template, subjects = LOCALES[(i * 3) % len(LOCALES)]
        subject = subjects[i % len(subjects)]
        slug = f"{_slug(subject)}-{i + 1}"
        start = 2014 + rng.randrange(8)
        obj = {
            "@context": "https://schema.org",
            "@type": "ResearchProject" if i % 2 else "Project",
            "@id": f"https://buerger-forschen.example/projekte/{slug}",
            "name": f"{subject.capitalize()}: {COUNTRY_NAMES[country].removeprefix('the ')} ({i + 1})",
            "description": template.format(s=subject, c=COUNTRY_NAMES[country]),
            "url": f"https://www.{slug}.example.net/",
            "inLanguage": language,
            "foundingDate": f"{start}-{rng.randrange(1, 13):02d}",
            "areaServed": {"@type": "Country", "name": COUNTRY_NAMES[country].removeprefix("the ")},
            "about": [{"@type": "Thing", "name": t} for t in rng.sample(TOPICS, 2)],
            "keywords": ", ".join(rng.sample(["Bürgerwissenschaft", subject, "Monitoring", "Umwelt", "Open Data"], 3)),
            "parentOrganization": {"@type": "ResearchOrganization",
                                   "name": f"Institut {i % 4 + 1} für Umweltforschung"},
            "funder": {"@type": "Organization", "name": rng.choice(["BMBF", "FWF", "Horizon Europe"])},
            "email": f"team.{slug}@institut{i % 4 + 1}.example.net",
            "location": {"@type": "Place", "geo": {"@type": "GeoCoordinates", "latitude": round(rng.uniform(45, 55), 4),
                                                   "longitude": round(rng.uniform(5, 17), 4)}},
            "additionalProperty": [
                {"@type": "PropertyValue", "name": "status", "value": rng.choice(["laufend", "ongoing", "completed"])},
                {"@type": "PropertyValue", "name": "participation_tasks", "value": rng.sample(TASKS, 2)},
                {"@type": "PropertyValue", "name": "sdgs",
                 "value": [f"{rng.randrange(1, 18)}", f"{rng.randrange(1, 18)}:indirect"]},
            ],
        }  # fmt: skip
        if i % 5 == 4:
            obj["dissolutionDate"] = f"{start + 4}-06-30"
        _add_data_practices(obj, i, slug)
        objects.append(obj)
    return objects


def _add_data_practices(obj: dict, i: int, slug: str) -> None:
    """Where a project's data is, as schema.org pages say it: a Dataset about the project with a download
    and a licence's address, a Dataset on request, additionalProperty words, or nothing (a quarter each)."""
    dataset = {"@type": "Dataset", "name": f"Daten: {obj['name']}", "url": f"https://daten.example.net/{slug}"}
    if i % 4 == 0:
        obj["subjectOf"] = dataset | {
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "distribution": {"@type": "DataDownload", "encodingFormat": "text/csv",
                             "contentUrl": f"https://daten.example.net/{slug}.csv"},
        }  # fmt: skip
    elif i % 4 == 1:
        obj["subjectOf"] = dataset | {
            "conditionsOfAccess": "Auf Anfrage",
            "license": {"@type": "CreativeWork", "url": "https://creativecommons.org/licenses/by-nc/4.0/"},
        }
    elif i % 4 == 2:
        obj["additionalProperty"] += [
            {"@type": "PropertyValue", "name": "data_access", "value": "nur online einsehbar"},
            {"@type": "PropertyValue", "name": "reusable_for_research", "value": "ja"},
        ]


def _project_page(obj: dict) -> bytes:
    # some pages wrap the project in an @graph with the page itself, as CMS plugins do
    data = (
        obj
        if not obj["@id"].endswith(("3", "7"))
        else {
            "@context": "https://schema.org",
            "@graph": [{"@type": "WebPage", "name": obj["name"]}, {k: v for k, v in obj.items() if k != "@context"}],
        }
    )
    return (
        f'<!doctype html><html lang="{obj["inLanguage"]}"><head><meta charset="utf-8">'
        f"<title>{escape(obj['name'])}</title>"
        '<script type="application/ld+json">{"@context": "https://schema.org",'
        ' "@type": "BreadcrumbList", "itemListElement": []}</script>'
        f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
        f"</head><body><h1>{escape(obj['name'])}</h1><p>{escape(obj['description'])}</p></body></html>"
    ).encode()


def jsonld_pages(seed: int = SEED) -> dict[str, bytes]:
    objects = jsonld_projects(seed)
    pages = {"/robots.txt": b"User-agent: *\nDisallow: /entwurf/\n"}
    listings = [objects[i : i + JSONLD_PER_LISTING] for i in range(0, len(objects), JSONLD_PER_LISTING)]
    for number, chunk in enumerate(listings, start=1):
        items = "".join(
            f'<li><a class="projekt" href="/projekte/{o["@id"].rsplit("/", 1)[1]}.html">{escape(o["name"])}</a></li>'
            for o in chunk
        )
        if number == 1:  # a draft the listing links to, but robots.txt keeps crawlers out of
            items += '<li><a class="projekt" href="/entwurf/neues-projekt.html">Entwurf</a></li>'
        nxt = f'<a class="weiter" href="/projekte/?seite={number + 1}">weiter</a>' if number < len(listings) else ""
        path = "/projekte/" if number == 1 else f"/projekte/?seite={number}"
        pages[path] = f"<!doctype html><html><body><ul>{items}</ul>{nxt}</body></html>".encode()
    for obj in objects:
        pages[f"/projekte/{obj['@id'].rsplit('/', 1)[1]}.html"] = _project_page(obj)
    pages["/entwurf/neues-projekt.html"] = b"<html><body>not for crawlers</body></html>"
    return pages


# --- serving ------------------------------------------------------------------------------------------


def _handler(pages: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            kind = (
                "application/json"
                if body[:1] in (b"{", b"[")
                else ("text/plain" if self.path == "/robots.txt" else "text/html; charset=utf-8")
            )
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:  # quiet: the crawler reports
            pass

    return Handler


@contextmanager
def serve(pages: dict[str, bytes]) -> Iterator[str]:
    """Serve `pages` on 127.0.0.1 (an ephemeral port) in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(pages))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def demo_platforms(eucs_url: str = "http://127.0.0.1", jsonld_url: str = "http://127.0.0.1") -> list[Platform]:
    """The registry of the demo sites (allow_private: they live on 127.0.0.1)."""
    return [
        Platform(
            id="demo_eu_citizen_science", name="EU-Citizen.Science (generated demo API)", base_url=eucs_url,
            country="europe", language="en", method="eucs_api", options={"api_path": "/api/projects/"},
            allow_private=True, multilingual=True,
        ),
        Platform(
            id="demo_buerger_forschen", name="Bürger forschen (generated demo JSON-LD site)", base_url=jsonld_url,
            country="DE", language="de", method="jsonld",
            options={"listing_urls": ["/projekte/"], "link_selector": "a.projekt", "next_selector": "a.weiter"},
            allow_private=True, multilingual=True,
        ),
    ]  # fmt: skip


def crawl_demo(
    wh: warehouse.Warehouse | None = None, progress: Callable[[str], None] | None = print_progress
) -> list[LoadResult]:
    """Serve both demo sites, crawl them for real over HTTP, stop them; one LoadResult per platform."""
    with serve(eucs_pages()) as eucs_url, serve(jsonld_pages()) as jsonld_url:
        results = crawl_platforms(demo_platforms(eucs_url, jsonld_url), wh, DEMO_SETTINGS, progress)
    raise_for_failures(results)
    return [r.load for r in results]
