"""Lynguo social-listening exports (`;`-separated CSV): one post per record."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cstrack.errors import MappingError
from cstrack.ingest.readers import NUL_REMOVED, CsvFile, UnterminatedQuote
from cstrack.ingest.social.posts import (
    MAX_BIGINT,
    RECORD_ERRORS,
    BadPost,
    clean_str,
    latest_post_at,
    sha,
    within_bounds,
)
from cstrack.ingest.text import snippet

LYNGUO_COLUMNS = ("Fecha", "Fuente", "Texto", "Enlace", "Marca", "Usuario", "Opinion", "Impacto")

_LYNGUO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d")
_OPINION = {"positiva": "positive", "positivo": "positive", "positive": "positive", "negativa": "negative",
            "negativo": "negative", "negative": "negative", "neutra": "neutral", "neutro": "neutral",
            "neutral": "neutral"}  # fmt: skip
_PLATFORM = {"twitter": "twitter", "x": "twitter", "x (twitter)": "twitter", "twitter/x": "twitter"}
_STATUS_URL = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status(?:es)?/(\d+)", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&])[#＃](\w+)", re.UNICODE)
_MENTION = re.compile(r"(?<![\w])@(\w{1,50})", re.UNICODE)
_URL = re.compile(r"https?://[^\s<>\"']+")


def _lynguo_time(value: str, latest: datetime) -> datetime:
    text = value.strip()
    for fmt in _LYNGUO_FORMATS:
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)  # Lynguo exports carry no zone: UTC
        except ValueError:
            continue
        return within_bounds(moment, "Fecha", text, latest)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadPost("Fecha", f"Fecha is not a date and time: {value[:40]!r}") from None
    return within_bounds(moment if moment.tzinfo else moment.replace(tzinfo=UTC), "Fecha", text, latest)


def _header_key(name: str) -> str:
    """Header names compared without case, accents and surrounding space (Opinión = Opinion)."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lstrip("\ufeff"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def lynguo_posts(path: Path, unmapped=None) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """(first line of the record, post, reason, field, raw value) for each record of a Lynguo CSV export.

    Read by the shared strict reader (readers.CsvFile). Lines are numbered in the file (the header is
    line 1). Quarantined, each with its line: a record whose field count differs from the header's (the
    counts in the reason), a cell over MAX_CELL_CHARS, invalid UTF-8 bytes (the file is decoded with
    `surrogateescape` and a record holding an escaped byte is refused, naming the field). A quoted cell
    never closed would swallow the following records: its line and the rest of the file are one
    quarantined record, never merged. A header without Fecha, Texto and Usuario, or naming a column
    twice, is one quarantined record and nothing else is read. NUL bytes are removed from cells and
    counted per column in `unmapped` (column, NUL_REMOVED).
    """
    try:
        reader = CsvFile(path, encoding="utf-8-sig", delimiter=";", errors="surrogateescape")
    except MappingError as exc:  # the header is not valid CSV
        yield 1, None, f"line 1: unreadable header ({str(exc).removeprefix(f'{path}: ')})", None, None
        return
    header = reader.header
    if not header:
        return
    keys = [_header_key(h) for h in header]
    positions = {key: i for i, key in enumerate(keys)}
    missing = [
        c for c in LYNGUO_COLUMNS if _header_key(c) in ("fecha", "texto", "usuario") and _header_key(c) not in positions
    ]
    if missing:
        yield (
            1,
            None,
            (f"line 1: the header lacks {', '.join(missing)}; a Lynguo export has {';'.join(LYNGUO_COLUMNS)}"),
            missing[0],
            snippet(";".join(header)),
        )
        return
    for name in LYNGUO_COLUMNS:
        places = [str(i + 1) for i, key in enumerate(keys) if key == _header_key(name)]
        if len(places) > 1:
            yield (
                1,
                None,
                (
                    f"line 1: the header names {name} {len(places)} times (columns {', '.join(places)}): which one "
                    f"holds the data is unknown, so the file was not read"
                ),
                name,
                snippet(";".join(header)),
            )
            return
    column = {c: positions.get(_header_key(c)) for c in LYNGUO_COLUMNS}
    latest = latest_post_at()
    try:
        for _row, line, record, reason in reader.rows():
            if record is None:  # field count, a cell too large, a malformed quoted cell
                yield line, None, reason, None, None
                continue
            if not any(cell.strip() for cell in record):
                continue
            try:
                yield line, _lynguo_record(record, column, unmapped, latest), None, None, None
            except BadPost as exc:
                yield line, None, f"line {line}: {exc}", exc.field, snippet(";".join(record))
            except RECORD_ERRORS as exc:
                yield (
                    line,
                    None,
                    f"line {line}: malformed record ({type(exc).__name__}: {exc})",
                    None,
                    snippet(";".join(record)),
                )
    except UnterminatedQuote as exc:
        yield (
            exc.line,
            None,
            (
                f"line {exc.line}: a quoted cell opened here is never closed (unterminated quote?): nothing after it "
                f"can be trusted, so this line and the rest of the file were not read"
            ),
            None,
            None,
        )
    if unmapped is not None:
        for name, n in reader.nul_cells.items():
            unmapped[(snippet(name), NUL_REMOVED)] += n


def _lynguo_record(record: list[str], column: dict, unmapped, latest: datetime) -> dict:
    for name, index in column.items():
        if index is not None:
            clean_str(name, record[index])  # invalid bytes: refuse the record, naming the field

    def cell(name: str) -> str:
        index = column[name]
        return record[index].strip() if index is not None else ""

    user = cell("Usuario").lstrip("@")
    if not user:
        raise BadPost("Usuario", "Usuario is empty")
    text = cell("Texto")
    link = cell("Enlace")
    fuente = " ".join(cell("Fuente").casefold().split())
    platform = _PLATFORM.get(fuente, re.sub(r"\W+", "_", fuente).strip("_") or "unknown")
    status = _STATUS_URL.match(link)
    if status:
        platform, post_id = "twitter", status.group(1)  # the same tweet as in API exports
    elif link:
        post_id = sha(link)  # post links name their author: keep a hash
    else:
        post_id = sha(f"{cell('Fecha')}|{user}|{text}")
    opinion = _header_key(cell("Opinion"))
    if opinion and opinion not in _OPINION and unmapped is not None:
        unmapped[("Opinion", cell("Opinion"))] += 1
    reach = None
    if cell("Impacto"):
        digits = re.sub(r"[.,\s]", "", cell("Impacto"))
        if digits.isdigit() and int(digits) <= MAX_BIGINT:
            reach = int(digits)
        elif unmapped is not None:
            unmapped[("Impacto", cell("Impacto"))] += 1
    return {
        "source_format": "lynguo",
        "platform": platform,
        "post_id": post_id,
        "posted_at": _lynguo_time(cell("Fecha"), latest),
        "kind": "repost" if re.match(r"^RT\s+@", text) else "original",
        "author_handle": user,
        "author_key": "@" + user.casefold(),
        "text": text,
        "source_language": None,
        "source_sentiment": _OPINION.get(opinion),
        "hashtags": _HASHTAG.findall(text),
        "mentions": [(m, "@" + m.casefold()) for m in _MENTION.findall(text)],
        "urls": _URL.findall(text) + ([link] if link and not status else []),
        "reach": reach,
        "tracked_term": cell("Marca") or None,
    }
