"""Value parsers shared by the source loaders: placeholders, dates, numbers, countries, URLs.

Each parser returns the canonical value or raises ValueError with a short reason.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cstrack import config

PLACEHOLDERS = {"", "-", "--", "n/a", "na", "n.a.", "unknown", "null", "nan", "?", "tbd", "not known", "none"}


@lru_cache(maxsize=65536)  # exports repeat the same short cells (statuses, countries, yes/no) row after row
def normalise_key(value: str) -> str:
    """Case- and whitespace-insensitive form used to match `map` keys and vocabulary aliases."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


LONGEST_PLACEHOLDER = max(len(p) for p in PLACEHOLDERS)


def collapse_whitespace(text: str) -> str:
    """`" ".join(text.split())`, without the split when the text is already collapsed: every whitespace
    character but the space is unprintable, so printable text without a double, leading or trailing space is."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def is_placeholder(value) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    # most cells are long text: no placeholder once normalised (whitespace collapsed), so skip the work
    if len(value) > 4 * LONGEST_PLACEHOLDER and len("".join(value.split())) > LONGEST_PLACEHOLDER:
        return False
    return normalise_key(value) in PLACEHOLDERS


_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), ("y", "m")),
    (re.compile(r"^(\d{4})$"), ("y",)),
]


def parse_date(value: str) -> str:
    """ISO date at the precision the source gives: 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'."""
    text = value.strip()
    for pattern, parts in _DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        got = dict(zip(parts, (int(g) for g in match.groups()), strict=True))
        year, month, day = got["y"], got.get("m"), got.get("d")
        if not 1000 <= year <= 2999:
            break
        if day is not None:
            date(year, month, day)  # raises ValueError on 2021-02-30
            return f"{year:04d}-{month:02d}-{day:02d}"
        if month is not None:
            if not 1 <= month <= 12:
                break
            return f"{year:04d}-{month:02d}"
        return f"{year:04d}"
    raise ValueError(f"not a date: {value!r}")


def parse_year(value: str) -> int:
    return int(parse_date(value)[:4])


def parse_int(value: str) -> int:
    text = value.strip().replace(",", "").replace("_", "").replace(" ", "")
    try:
        return int(float(text)) if re.fullmatch(r"-?\d+(\.0+)?", text) else int(text)
    except ValueError:
        raise ValueError(f"not an integer: {value!r}") from None


def parse_float(value: str) -> float:
    text = value.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None


_TRUE = {"true", "yes", "y", "1", "t", "ja", "si", "sí", "oui", "x"}
_FALSE = {"false", "no", "n", "0", "f", "nee", "nein", "non"}


def parse_bool(value: str) -> bool:
    key = normalise_key(value)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


@lru_cache(maxsize=1)
def country_aliases() -> dict[str, str]:
    """alias -> ISO-2 code or a scope word ('global', 'europe'); from the dbt seed, the one vocabulary."""
    path = config.seed_path("country_alias")
    with path.open(encoding="utf-8") as handle:
        return {normalise_key(row["alias"]): row["code"] for row in csv.DictReader(handle)}


def parse_country(value: str) -> str:
    code = country_aliases().get(normalise_key(value).removeprefix("the "))
    if code is None:
        code = country_aliases().get(normalise_key(value))
    if code is None:
        raise ValueError(f"not a known country: {value!r}")
    return code


def parse_language(value: str) -> str:
    import pycountry

    key = value.strip()
    language = pycountry.languages.get(alpha_2=key.lower()) if len(key) == 2 else None
    if language is None and len(key) == 3:
        language = pycountry.languages.get(alpha_3=key.lower())
    if language is None:
        try:
            language = pycountry.languages.lookup(key)
        except LookupError:
            language = None
    if language is None or not hasattr(language, "alpha_2"):
        raise ValueError(f"not an ISO 639-1 language: {value!r}")
    return language.alpha_2


_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# an address that is canonical as it is (what urlsplit/urlunsplit would give back unchanged): http(s), a
# lower-case ASCII host name with a dot and no port, a path of plain characters, no query, no fragment
_CANONICAL_URL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?")


def parse_url(value: str) -> str:
    text = value.strip()
    if _CANONICAL_URL.fullmatch(text):  # most addresses: no split and rebuild
        return text
    if not _HAS_SCHEME.match(text):
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in parts.netloc:
        raise ValueError(f"not a web address: {value!r}")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, parts.query, ""))


@cache
def seed_aliases(seed: str, value_column: str) -> dict[str, str | None]:
    """alias -> value of an alias seed (dbt/seeds/<seed>.csv, the one vocabulary); an empty value is an alias
    known to mean "unknown" (null, not counted as unmapped)."""
    path = config.seed_path(seed)
    with path.open(encoding="utf-8") as handle:
        return {normalise_key(row["alias"]): row[value_column] or None for row in csv.DictReader(handle)}


def parse_data_access(value: str) -> str | None:
    """download, view, on_request or none (dbt/seeds/data_access_alias.csv); None for an alias meaning unknown."""
    key = normalise_key(value)
    aliases = seed_aliases("data_access_alias", "data_access")
    if key not in aliases:
        raise ValueError(f"not a known data access: {value!r}")
    return aliases[key]


def parse_licence(value: str) -> str:
    """An SPDX licence id (dbt/seeds/licence_alias.csv): "CC BY 4.0" -> CC-BY-4.0. A licence's web address
    (schema.org `license`) is matched without its scheme, www. and trailing slash or legalcode."""
    key = normalise_key(value)
    if _HAS_SCHEME.match(key):
        key = re.sub(r"^[a-z]+://(?:www\.)?|/(?:legalcode(?:\.[a-z-]+)?)?$|/$", "", key).removesuffix("/")
    spdx = seed_aliases("licence_alias", "spdx_id").get(key)
    if spdx is None:
        raise ValueError(f"not a known licence: {value!r}")
    return spdx


PARSERS = {
    "date": parse_date,
    "year": parse_year,
    "int": parse_int,
    "float": parse_float,
    "bool": parse_bool,
    "country": parse_country,
    "language": parse_language,
    "url": parse_url,
    "data_access": parse_data_access,
    "licence": parse_licence,
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
