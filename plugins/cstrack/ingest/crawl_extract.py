"""Extraction: stored pages -> canonical project records (the `record` shape the catalogue mappings produce).

Pure functions of (platform, page URL, body): no HTTP and no database, so re-extraction can run on
stored pages at any time and a changed parser is applied without re-crawling. A page that cannot be
read as projects yields a `problem` (the reason it is quarantined) instead of records.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from cstrack.ingest.parsing import (
    LONGEST_PLACEHOLDER,
    collapse_whitespace,
    is_placeholder,
    parse_bool,
    parse_country,
    parse_data_access,
    parse_date,
    parse_float,
    parse_language,
    parse_licence,
    parse_url,
)
from cstrack.ingest.text import HTML_TAG

# canonical fields a crawled record carries (a subset of catalogue.CANONICAL_FIELDS; contact goes to pii)
RECORD_FIELDS = (
    "title", "aim", "description", "url", "status", "start_date", "end_date", "countries", "geographic_extent",
    "latitude", "longitude", "language", "topics", "keywords", "participation_tasks", "lead_organisation",
    "organisation_type", "funding", "sdgs", "data_url", "data_access", "reusable_for_research", "data_licence",
)  # fmt: skip
LIST_FIELDS = {"countries", "topics", "keywords", "participation_tasks"}
FIELD_PARSERS = {
    "url": parse_url,
    "start_date": parse_date,
    "end_date": parse_date,
    "countries": parse_country,
    "language": parse_language,
    "latitude": parse_float,
    "longitude": parse_float,
    "data_url": parse_url,
    "data_access": parse_data_access,
    "reusable_for_research": parse_bool,
    "data_licence": parse_licence,
}
# vocabulary values that read like placeholders ("none", "no") but are answers: never dropped as empty
ANSWER_FIELDS = frozenset({"data_access", "reusable_for_research"})
JSONLD_PROJECT_TYPES = {"Project", "ResearchProject"}


@dataclass
class Project:
    record_id: str
    record: dict
    pii: dict | None
    source_data: dict


@dataclass
class PageResult:
    projects: list[Project] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (position in page, reason) of single records
    problem: str | None = None  # the whole page is unusable: why


# fields whose values repeat from project to project (vocabularies, dates, organisations): their canonical value
# is cached per distinct raw string; titles, descriptions and addresses are unique per project and never cached
CACHED_FIELDS = frozenset({
    "status", "start_date", "end_date", "countries", "geographic_extent", "language", "topics", "keywords",
    "participation_tasks", "lead_organisation", "organisation_type", "funding", "data_access",
    "reusable_for_research", "data_licence",
})  # fmt: skip
CACHE_SIZE = 2048  # distinct values per field and Canonicaliser; a field's cache is emptied when full
_CACHE_MAX_LEN = 200  # longer strings are free text, not vocabulary: parsed each time


class _Unmapped:
    """A cached result: the value is rejected by its parser and counted under `key` at each occurrence."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[str, str] | None):
        self.key = key


_MISS = _Unmapped(None)


def _long_text(collapsed: str) -> bool:
    """True when a collapsed string cannot be a placeholder: is_placeholder's own shortcut, where the
    non-whitespace length of a collapsed string is its length less its spaces (no second split)."""
    return (
        len(collapsed) > 4 * LONGEST_PLACEHOLDER and len(collapsed) - collapsed.count(" ") > LONGEST_PLACEHOLDER
    )  # not cached: an _Unmapped too, so a cache hit needs a single check


# how record() treats each field: kept as is (sdgs), list, coordinate, cached per value, or parsed each time
_SDGS, _LIST, _COORDINATE, _CACHED, _PARSED = range(5)


class Canonicaliser:
    """Turns raw field values into canonical ones with the shared parsers; counts values they reject."""

    def __init__(self, default_language: str | None = None):
        self.default_language = default_language
        self.unmapped: Counter[tuple[str, str]] = Counter()
        # per cached field: raw string -> canonical value, None (placeholder) or _Unmapped (rejected)
        self._caches: dict[str, dict[str, Any]] = {name: {} for name in CACHED_FIELDS}
        self._plan = tuple(
            (
                name,
                _SDGS if name == "sdgs"
                else _LIST if name in LIST_FIELDS
                else _COORDINATE if name in ("latitude", "longitude")
                else _CACHED if name in CACHED_FIELDS
                else _PARSED,
                self._caches.get(name, {}),
            )
            for name in RECORD_FIELDS
        )  # fmt: skip

    @staticmethod
    def _canonical(name: str, value: Any):
        """The canonical value, None, or _Unmapped: no side effect, so it can be cached."""
        if isinstance(value, str):
            value = collapse_whitespace(value)
            if value == "" or name not in ANSWER_FIELDS and not _long_text(value) and is_placeholder(value):
                return None
        elif is_placeholder(value):
            return None
        parser = FIELD_PARSERS.get(name)
        if parser is None or isinstance(value, (int, float)) and name in ("latitude", "longitude"):
            return value
        try:
            return parser(str(value))
        except ValueError:
            return _Unmapped((name, str(value)))

    def _parse(self, name: str, value: Any):
        cache = self._caches.get(name)
        if cache is not None and value.__class__ is str and len(value) <= _CACHE_MAX_LEN:
            result = cache.get(value, _MISS)
            if result is _MISS:
                result = self._canonical(name, value)
                if len(cache) >= CACHE_SIZE:
                    cache.clear()
                cache[value] = result
        else:
            result = self._canonical(name, value)
        if result.__class__ is _Unmapped:
            self.unmapped[result.key] += 1  # kept out of the record, counted for analysts
            return None
        return result

    def record(self, raw: dict[str, Any]) -> dict:
        record: dict[str, Any] = {}
        for name, kind, cache in self._plan:
            value = raw.get(name)
            if value is None:  # what parsing gives: no value (an empty list for list fields)
                record[name] = [] if kind is _LIST else None
            elif kind is _CACHED:
                # a cache hit inline (the common case); a miss or a rejected value goes through _parse
                result = cache.get(value, _MISS) if value.__class__ is str else _MISS
                record[name] = self._parse(name, value) if result.__class__ is _Unmapped else result
            elif kind is _LIST:
                out = []
                for v in value if isinstance(value, list) else (value,):
                    result = cache.get(v, _MISS) if v.__class__ is str else _MISS
                    if result.__class__ is _Unmapped:
                        result = self._parse(name, v)
                    if result is not None and result not in out:  # first occurrence kept, as dict.fromkeys
                        out.append(result)
                record[name] = out
            elif kind is _COORDINATE and isinstance(value, (int, float)):
                record[name] = value
            elif kind is _SDGS:
                record[name] = value or None
            else:
                record[name] = self._parse(name, value)
        if record["language"] is None:
            record["language"] = self.default_language
        return record


def plain_text(value: Any) -> str | None:
    """Descriptions often carry HTML: keep the text only."""
    if not isinstance(value, str):
        return None
    if "<" in value and ">" in value:
        # tags out, entities decoded: a regex is enough for description fragments, and far cheaper than a parser
        if "<s" in value or "<S" in value:  # only then can there be a <script> or <style> element
            value = _SCRIPT.sub(" ", value)
        value = html.unescape(HTML_TAG.sub(" ", value))
    elif "&" in value:
        value = html.unescape(value)
    return _tidy(value) or None


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")


def _tidy(text: str) -> str:
    """Whitespace collapsed; no space before punctuation (left by joining an element's text parts)."""
    text = collapse_whitespace(text)
    # once collapsed the only whitespace is single spaces: substring tests find what the regex would, far cheaper
    if " " in text and (
        " ." in text or " ," in text or " ;" in text or " :" in text or " !" in text or " ?" in text
    ):  # fmt: skip
        return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    return text


def _names(items: Any, *keys: str) -> list[str]:
    """['a', 'b'] from ['a', 'b'], [{'keyword': 'a'}], a comma-separated string or {'name': 'a'}."""
    if items is None:
        return []
    if isinstance(items, str):
        return [part.strip() for part in items.split(",") if part.strip()]
    if isinstance(items, dict):
        items = [items]
    elif not isinstance(items, list):
        return []
    names = []
    for item in items:
        if isinstance(item, dict):
            for key in keys:
                found = item.get(key)
                if found is not None and found != "":
                    item = found
                    break
            else:
                continue
        if item.__class__ is str:  # the common case, without str() copies
            item = item.strip()
            if item:
                names.append(item)
        elif isinstance(item, (str, int, float)) and str(item).strip():
            names.append(str(item).strip())
    return names


def _json(body: bytes) -> Any:
    return json.loads(body.decode("utf-8-sig", errors="replace"))


# --- eucs_api ---------------------------------------------------------------------------------------


def eucs_page(body: bytes) -> list:
    """The project list of an EU-Citizen.Science API page ({count, next, previous, results} or a list)."""
    try:
        document = _json(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    results = document.get("results") if isinstance(document, dict) else document
    if not isinstance(results, list):
        raise ValueError("not a project list: no `results` list in the JSON")
    return results


def eucs_next(body: bytes, url: str) -> str | None:
    """The `next` page of a DRF-style page, as an absolute URL."""
    try:
        document = _json(body)
    except json.JSONDecodeError:
        return None
    nxt = document.get("next") if isinstance(document, dict) else None
    return urljoin(url, nxt) if isinstance(nxt, str) and nxt else None


def eucs_project(item: dict, canon: Canonicaliser, title: str | None = None) -> Project:
    """One project of an API page (`title`: its name as plain text, when the caller has it already)."""
    organisation = item.get("mainOrganisation") if isinstance(item.get("mainOrganisation"), dict) else {}
    status = item.get("status")
    funding = _names(item.get("fundingBody"), "body", "name") + _names(item.get("fundingProgram"), "name")
    extent = _names(item.get("geographicextend"), "geographicextend", "name")
    raw = {
        "title": title if title is not None else plain_text(item.get("name")),
        "aim": plain_text(item.get("aim")),
        "description": plain_text(item.get("description")),
        "url": item.get("url"),
        "status": status.get("status") if isinstance(status, dict) else status,
        "start_date": item.get("start_date"),
        "end_date": item.get("end_date"),
        "countries": _names(item.get("country"), "country"),
        "geographic_extent": extent[0] if extent else None,
        "latitude": item.get("latitude"),
        "longitude": item.get("longitude"),
        "language": item.get("language"),
        "topics": _names(item.get("topic"), "topic", "name"),
        "keywords": _names(item.get("keywords"), "keyword", "name"),
        "participation_tasks": _names(item.get("participationTask"), "participationTask", "task", "name"),
        "lead_organisation": organisation.get("name"),
        "organisation_type": _org_type(organisation.get("orgType")),
        "funding": "; ".join(funding) or None,
    }
    email = organisation.get("contactPointEmail")
    return Project(str(item["id"]), canon.record(raw), {"contact": email} if email else None, item)


def _org_type(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("type") or value.get("name")
    return value if isinstance(value, str) else None


def extract_eucs(url: str, body: bytes, canon: Canonicaliser) -> PageResult:
    try:
        items = eucs_page(body)
    except ValueError as exc:
        return PageResult(problem=str(exc))
    result = PageResult()
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict) or is_placeholder(item.get("id")) or item.get("id") == "":
            result.rejected.append((position, "project without an `id`"))
        elif not (title := plain_text(item.get("name"))):
            result.rejected.append((position, f"project {item.get('id')}: `name` is empty"))
        else:
            result.projects.append(eucs_project(item, canon, title))
    return result


# --- jsonld -----------------------------------------------------------------------------------------


def jsonld_objects(soup: BeautifulSoup) -> tuple[list[dict], list[str]]:
    """Every object in the page's JSON-LD scripts (graphs flattened), and the scripts that are not JSON."""
    objects, errors = [], []
    for script in soup.find_all("script", attrs={"type": re.compile(r"^application/ld\+json", re.IGNORECASE)}):
        try:
            data = json.loads(script.string or script.get_text() or "")
        except json.JSONDecodeError as exc:
            errors.append(f"JSON-LD is not valid JSON (line {exc.lineno}: {exc.msg})")
            continue
        stack = data if isinstance(data, list) else [data]
        for item in stack:
            if isinstance(item, dict):
                objects.append(item)
                objects.extend(o for o in item.get("@graph", []) if isinstance(o, dict))
    return objects, errors


def _types(obj: dict) -> set[str]:
    types = obj.get("@type")
    types = types if isinstance(types, list) else [types]
    return {str(t).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for t in types if t}


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _property_values(obj: dict) -> dict[str, Any]:
    """schema.org additionalProperty [{name, value}] as a dict, for fields schema.org has no term for."""
    props = obj.get("additionalProperty")
    props = props if isinstance(props, list) else [props]
    return {p["name"]: p.get("value") for p in props if isinstance(p, dict) and isinstance(p.get("name"), str)}


def _countries(obj: dict) -> list[str]:
    found = []
    for place in (obj.get("areaServed"), obj.get("location"), obj.get("address")):
        for item in place if isinstance(place, list) else [place]:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                address = item.get("address") if isinstance(item.get("address"), dict) else item
                country = address.get("addressCountry") or (
                    item.get("name") if item.get("@type") == "Country" else None
                )
                found.extend(_names(country, "name", "identifier"))
    return found


def _geo(obj: dict) -> dict:
    for holder in (obj, _first(obj.get("location")) or {}):
        if isinstance(holder, dict) and isinstance(holder.get("geo"), dict):
            return holder["geo"]
    return {}


def _data_practices(obj: dict, extra: dict) -> dict:
    """Where the project's data is and how it may be used, from a schema.org Dataset about the project
    (`subjectOf`): its url (else a download's contentUrl), `download` when it offers a DataDownload,
    `conditionsOfAccess` otherwise, its `license` (or the project's); additionalProperty names them where
    schema.org has no term (data_access, reusable_for_research)."""
    dataset = next((d for d in _as_list(obj.get("subjectOf")) if isinstance(d, dict) and "Dataset" in _types(d)), {})
    downloads = [d for d in _as_list(dataset.get("distribution")) if isinstance(d, dict) and d.get("contentUrl")]
    licence = _first(dataset.get("license") or obj.get("license") or extra.get("data_licence"))
    if isinstance(licence, dict):  # a CreativeWork: its address, else its name
        licence = licence.get("url") or licence.get("name")
    return {
        "data_url": _first(dataset.get("url")) or (downloads[0]["contentUrl"] if downloads else extra.get("data_url")),
        "data_access": "download" if downloads else dataset.get("conditionsOfAccess") or extra.get("data_access"),
        "reusable_for_research": extra.get("reusable_for_research"),
        "data_licence": licence,
    }


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def jsonld_project(obj: dict, page_url: str, canon: Canonicaliser) -> Project:
    extra = _property_values(obj)
    organisation = obj.get("parentOrganization") or obj.get("sponsor") or {}
    organisation = _first(organisation) if not isinstance(organisation, str) else {"name": organisation}
    organisation = organisation if isinstance(organisation, dict) else {}
    geo = _geo(obj)
    raw = {
        "title": plain_text(obj.get("name")),
        "aim": plain_text(obj.get("disambiguatingDescription") or extra.get("aim")),
        "description": plain_text(obj.get("description")),
        "url": _first(obj.get("url") or obj.get("sameAs")),
        "status": obj.get("creativeWorkStatus") or extra.get("status"),
        "start_date": obj.get("foundingDate") or obj.get("startDate"),
        "end_date": obj.get("dissolutionDate") or obj.get("endDate"),
        "countries": _countries(obj),
        "geographic_extent": extra.get("geographic_extent"),
        "latitude": geo.get("latitude"),
        "longitude": geo.get("longitude"),
        "language": _first(_names(obj.get("inLanguage"), "alternateName", "name")) or None,
        "topics": _names(obj.get("about"), "name"),
        "keywords": _names(obj.get("keywords"), "name"),
        "participation_tasks": _names(extra.get("participation_tasks")),
        "lead_organisation": organisation.get("name"),
        "organisation_type": organisation.get("@type") if organisation.get("@type") != "Organization" else None,
        "funding": "; ".join(_names(obj.get("funder"), "name")) or None,
        "sdgs": _sdgs(extra.get("sdgs")),
        **_data_practices(obj, extra),
    }
    contact = obj.get("email") or (_first(obj.get("contactPoint")) or {}).get("email")
    record_id = obj.get("@id") or obj.get("identifier") or page_url
    return Project(str(record_id), canon.record(raw), {"contact": contact} if contact else None, obj)


def _sdgs(value: Any) -> list[dict] | None:
    """SDG labels a page states, e.g. ["13", "15:indirect"] -> [{"tag": "13", "value": "direct"}, ...]."""
    tags = []
    for item in _names(value, "tag", "name"):
        tag, _, relevance = item.partition(":")
        tag = re.sub(r"\D", "", tag)
        if tag and 1 <= int(tag) <= 17:
            tags.append({"tag": str(int(tag)), "value": relevance.strip() or "direct"})
    return tags or None


def extract_jsonld(
    url: str, body: bytes, canon: Canonicaliser, types: Iterable[str] = JSONLD_PROJECT_TYPES
) -> PageResult:
    objects, errors = jsonld_objects(BeautifulSoup(body, "lxml"))
    wanted = set(types)
    projects = [o for o in objects if _types(o) & wanted]
    if not projects:
        if errors:
            return PageResult(problem="; ".join(errors))
        found = sorted({t for o in objects for t in _types(o)})
        return PageResult(
            problem=f"no schema.org {'/'.join(sorted(wanted))} in the page's JSON-LD"
            + (f" (found {', '.join(found)})" if found else " (no JSON-LD at all)")
        )
    result = PageResult()
    for position, obj in enumerate(projects, start=1):
        if not plain_text(obj.get("name")):
            result.rejected.append((position, "JSON-LD project without a `name`"))
        else:
            result.projects.append(jsonld_project(obj, url, canon))
    return result


# --- html -------------------------------------------------------------------------------------------


def select_values(soup: BeautifulSoup, spec: str, page_url: str) -> list[str]:
    """Values of a field spec 'css selector' (element text) or 'css selector @attribute'."""
    selector, _, attribute = spec.partition("@")
    values = []
    for element in soup.select(selector.strip()):
        if attribute:
            value = element.get(attribute.strip())
            if value and attribute.strip() in ("href", "src"):
                value = urljoin(page_url, value)
        else:
            value = _tidy(element.get_text(" ", strip=True))
        if value:
            values.append(value)
    return values


def extract_html(url: str, body: bytes, canon: Canonicaliser, fields: dict[str, str]) -> PageResult:
    soup = BeautifulSoup(body, "lxml")
    raw: dict[str, Any] = {}
    for name, spec in fields.items():
        values = select_values(soup, spec, url)
        raw[name] = values if name in LIST_FIELDS or name == "contact" else (" ".join(values) or None)
    if not raw.get("title"):
        return PageResult(problem=f"no title: selector {fields['title']!r} matches nothing")
    contact = [c.removeprefix("mailto:") for c in raw.pop("contact", None) or []]
    record = canon.record(raw)
    pii = {"contact": contact[0] if len(contact) == 1 else contact} if contact else None
    return PageResult(projects=[Project(url, record, pii, {"page_url": url, **raw})])


def links(body: bytes, page_url: str, selector: str) -> list[str]:
    """Absolute addresses of the links a listing page's selector finds (fragments dropped), in page order."""
    soup = BeautifulSoup(body, "lxml")
    found = []
    for element in soup.select(selector):
        href = element.get("href")
        if href:
            found.append(urljoin(page_url, href.strip()).split("#", 1)[0])
    return list(dict.fromkeys(found))
