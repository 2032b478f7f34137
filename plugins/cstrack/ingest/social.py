"""Social posts (DESIGN.md §6.4): Twitter/X API v2 pages, Mastodon statuses and Lynguo CSV exports.

Each format has a streaming parser that yields one post at a time, so memory is bounded whatever the
file size:
- JSON (twitter_v2, mastodon) is read by `iter_json_values`: the elements of a top-level array, or a
  sequence of top-level values (one page, JSON lines, concatenated pages), one value at a time. Memory
  holds one value (a Twitter page or a Mastodon status) plus a 1 MiB read-ahead; a single value larger
  than MAX_VALUE_CHARS (64 Mi characters) is quarantined instead of read.
- CSV (lynguo) is read record by record by the shared strict reader (readers.CsvFile).

What a source delivers either loads or is quarantined in ops.quarantine with its reason, never merged
and never sent to PostgreSQL half-clean: a post dated before FIRST_POST_AT (2006-03-21, the first
tweet) or after now + 1 day, or not representable (year 0, year 10000 once its offset applies); JSON
nested too deeply or a number too long to read; a string over readers.MAX_CELL_CHARS; invalid UTF-8
bytes; a CSV record with more or fewer fields than the header; a quoted CSV cell never closed (that
line and the rest of the file, one quarantined record). NUL characters are removed wherever they are
(`\\u0000` escapes in JSON, NUL bytes in CSV cells) and counted per field in ops.unmapped_values
(value readers.NUL_REMOVED).

Posts are enriched at load time (language, VADER sentiment, SDG mentions, normalised hashtags,
pseudonyms) and land in `raw.social_post` with COPY through `record_load`. Text and handles stay in
`raw`; dbt reads only the derived columns. Every input either loads or is quarantined with a reason.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cstrack import config, warehouse
from cstrack.errors import CstrackError, MappingError
from cstrack.ingest import pool
from cstrack.ingest.loading import LoadResult, record_load
from cstrack.ingest.readers import MAX_CELL_CHARS, NUL_REMOVED, CsvFile, UnterminatedQuote
from cstrack.ingest.text import HTML_TAG, snippet, without_nul
from cstrack.privacy import pseudonymise

FORMATS = ("twitter_v2", "mastodon", "lynguo")
# Bump when parsing or enrichment changes: files then load again as new observations (dbt keeps the latest).
PARSER_VERSION = "2"
TABLE = "raw.social_post"
COLUMNS = (
    "source_format", "platform", "post_id", "posted_at", "kind", "referenced_post_id", "author_handle",
    "author_pseudonym", "text", "source_language", "language", "language_detected", "sentiment",
    "source_sentiment", "hashtags", "mention_handles", "mention_pseudonyms", "urls", "sdgs", "like_count",
    "repost_count", "reply_count", "quote_count", "impression_count", "reach", "withheld_in", "tracked_term",
)  # fmt: skip
# PostgreSQL types of COLUMNS, for the binary COPY (see migrations/0005_social.sql)
COLUMN_TYPES = (
    "text", "text", "text", "timestamptz", "text", "text", "text", "text", "text", "text", "text", "boolean",
    "double precision", "text", "text[]", "text[]", "text[]", "text[]", "integer[]", "bigint", "bigint", "bigint",
    "bigint", "bigint", "bigint", "text[]", "text",
)  # fmt: skip
LYNGUO_COLUMNS = ("Fecha", "Fuente", "Texto", "Enlace", "Marca", "Usuario", "Opinion", "Impacto")

CHUNK_CHARS = 1 << 20
MAX_VALUE_CHARS = 64 << 20
MAX_BIGINT = 2**63 - 1
# Post timestamps: nothing was posted before the first tweet (2006-03-21), nor later than now + 1 day
# (a clock a little ahead); anything outside is quarantined at load, never published.
FIRST_POST_AT = datetime(2006, 3, 21, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
# Per-record problems that make a post unusable; anything else is a bug and should surface.
RECORD_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


class BadPost(ValueError):
    """A post that cannot load: quarantined with `field` and the reason."""

    def __init__(self, field: str | None, reason: str):
        super().__init__(reason)
        self.field = field


# --- streaming JSON ------------------------------------------------------------------------------------


def iter_json_values(path: Path, nul_removed: Counter | None = None) -> Iterator[tuple[Any, str | None]]:
    """Yield (value, None) for each top-level value, or (None, reason) for what cannot be parsed.

    A top-level array yields its elements; otherwise consecutive top-level values (JSON lines, one
    document, concatenated documents). After a syntax error, a sequence resumes at the next line (so
    one bad JSON line costs one line); inside an array nothing after the error can be trusted, so the
    rest of the array is reported once and not read. A value nested too deeply for the parser, or with
    a number of more digits than Python converts, is such an error (never a RecursionError).

    Strings never hold NUL: `\\u0000` escapes are removed, and counted per key path ('data.text') in
    `nul_removed` when given. Bytes that are not UTF-8 stay as lone surrogates (the caller refuses them).
    """
    decoder = json.JSONDecoder()
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        buf, pos, eof = "", 0, False
        lines_before = 0  # newlines in the text already dropped from buf, for line numbers in errors

        def fill(at_least: int = CHUNK_CHARS) -> None:
            nonlocal buf, pos, lines_before, eof
            chunk = handle.read(max(at_least, CHUNK_CHARS))
            lines_before += buf.count("\n", 0, pos)
            buf, pos = buf[pos:] + chunk, 0
            eof = not chunk

        def where(at: int) -> str:
            line_start = buf.rfind("\n", 0, at) + 1
            return f"line {lines_before + buf.count(chr(10), 0, at) + 1}, column {at - line_start + 1}"

        def skip_ws() -> bool:
            """Move to the next non-whitespace character; False at the end of the file."""
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                    pos += 1
                if pos < len(buf):
                    return True
                if eof:
                    return False
                fill()

        def decode() -> tuple[Any, str | None]:
            """The value at pos (pos moves past it), or an error reason (pos stays)."""
            nonlocal pos
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    if end < len(buf) or eof:  # a number at the buffer's end may continue in the next chunk
                        if buf.find("\\u0000", pos, end) >= 0:  # rare: walk the value only then
                            value = without_nul(value, nul_removed, keys=False)
                        pos = end
                        return value, None
                    fill(len(buf) - pos)
                    continue
                except json.JSONDecodeError as exc:
                    # an error within the last few characters may be a token cut by the read-ahead
                    incomplete = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")
                    if incomplete and not eof and len(buf) - pos < MAX_VALUE_CHARS:
                        fill(len(buf) - pos)  # doubling: a large value costs linear time
                        continue
                    if len(buf) - pos >= MAX_VALUE_CHARS:
                        return None, f"a JSON value at {where(pos)} is larger than {MAX_VALUE_CHARS} characters"
                    return None, f"not valid JSON at {where(exc.pos)}: {exc.msg}"
                except RecursionError:
                    return None, f"the JSON value at {where(pos)} is nested too deeply to read"
                except ValueError as exc:  # a number of more digits than int() converts (sys.get_int_max_str_digits)
                    return None, f"the JSON value at {where(pos)} cannot be read: {str(exc).split(';')[0]}"

        if not skip_ws():
            return
        if buf[pos] == "[":
            pos += 1
            first = True
            while True:
                if not skip_ws():
                    yield None, f"unexpected end of file inside the top-level array at {where(pos)}"
                    return
                if buf[pos] == "]":
                    pos += 1
                    break
                if not first:
                    if buf[pos] != ",":
                        yield None, f"not valid JSON at {where(pos)}: expecting ',' between array elements; the rest of the file was not read"
                        return
                    pos += 1
                    if not skip_ws():
                        yield None, f"unexpected end of file inside the top-level array at {where(pos)}"
                        return
                first = False
                value, error = decode()
                if error:
                    yield None, error + "; the rest of the file was not read"
                    return
                yield value, None
            if skip_ws():
                yield None, f"unexpected data after the top-level array at {where(pos)}"
            return
        while skip_ws():
            value, error = decode()
            if error:
                yield None, error
                # resume at the next line: JSON lines hold one value per line
                while True:
                    newline = buf.find("\n", pos)
                    if newline >= 0:
                        pos = newline + 1
                        break
                    if eof:
                        pos = len(buf)
                        break
                    fill()
                continue
            yield value, None



def _record_nul(nul_removed: Counter, unmapped: Counter | None) -> None:
    """NUL removals (field -> strings) as ops.unmapped_values rows (field, NUL_REMOVED, n)."""
    if unmapped is not None:
        for field, n in nul_removed.items():
            unmapped[(field, NUL_REMOVED)] += n


# --- shared helpers ------------------------------------------------------------------------------------


def normalise_hashtag(tag: str) -> str:
    """NFKC, case-folded, without the leading '#' (so #CitizenScience, #citizenscience and ＃CITIZENSCIENCE agree)."""
    return unicodedata.normalize("NFKC", tag).casefold().lstrip("#").strip()


def _unique(values) -> list:
    return list(dict.fromkeys(v for v in values if v))


def _latest_post_at() -> datetime:
    """The latest post time a load accepts: now + 1 day (taken once per file)."""
    return datetime.now(UTC) + FUTURE_SLACK


def _timestamp(value, field: str, latest: datetime) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise BadPost(field, f"{field} is missing")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadPost(field, f"{field} is not an ISO timestamp (years 0001 to 9999): {value[:60]!r}") from None
    return _within_bounds(moment if moment.tzinfo else moment.replace(tzinfo=UTC), field, value, latest)


def _within_bounds(moment: datetime, field: str, value: str, latest: datetime) -> datetime:
    """`moment` if a post can have been made then; BadPost naming the field and value otherwise. Aware
    datetimes compare in UTC without overflow, so 9999-12-31T23:00-05:00 (year 10000 in UTC) is 'after'."""
    if moment < FIRST_POST_AT:
        raise BadPost(field, f"{field} {value.strip()[:60]!r} is before 2006-03-21T00:00Z (the first tweet): impossible for a post")
    if moment > latest:
        raise BadPost(field, f"{field} {value.strip()[:60]!r} is after now + 1 day ({latest:%Y-%m-%dT%H:%MZ}): impossible for a post")
    return moment


def _count(value) -> int | None:
    """A metric: a non-negative integer, else null."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BIGINT:
        return None
    return value


def _id(value, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise BadPost(field, f"{field} is missing")
    return str(value).strip()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _host(url) -> str:
    try:
        return (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    except ValueError:
        return ""


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}



def _check_text(values: tuple) -> tuple:
    """PostgreSQL text holds no NUL and only valid Unicode: drop NULs, refuse lone surrogates (invalid bytes)."""
    strings = [v for v in values if isinstance(v, str)]
    strings += [x for v in values if isinstance(v, list) for x in v if isinstance(x, str)]
    joined = "\x1f".join(strings)
    if len(joined) > MAX_CELL_CHARS:  # rare: find the string too long to store
        for column, value in zip(COLUMNS, values):
            for string in value if isinstance(value, list) else (value,):
                if isinstance(string, str) and len(string) > MAX_CELL_CHARS:
                    raise BadPost(column, _too_long(column, string))
    if "\x00" not in joined and (joined.isascii() or _encodes(joined)):
        return values  # the common case: one check for the whole row
    cleaned = []
    for column, value in zip(COLUMNS, values):
        if isinstance(value, str):
            value = _clean_str(column, value)
        elif isinstance(value, list):
            value = [_clean_str(column, v) if isinstance(v, str) else v for v in value]
        cleaned.append(value)
    return tuple(cleaned)


def _too_long(field: str, value: str) -> str:
    return f"{field} is {len(value)} characters long, over the limit of {MAX_CELL_CHARS} ({MAX_CELL_CHARS // 1024} KiB)"


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _clean_str(column: str, value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadPost(column, f"invalid UTF-8 bytes (or a lone surrogate) in {column}") from None
    return value


# --- enrichment ----------------------------------------------------------------------------------------

# Twitter's codes for "no linguistic content" or undetermined; the post's language is then detected
UNDETERMINED = {"und", "zxx", "qme", "qht", "qam", "qct", "qst", "art", "mis", "mul"}
_RETWEET_PREFIX = re.compile(r"^RT @\w+: ")
_NOISE = re.compile(r"https?://\S+|[@#]\w+|^RT\b", re.UNICODE)
_SDG_TEXT = re.compile(r"(?<!\w)#?(?:SDGs?|ODS|ODD|Global\s*Goals?)[\s#_-]*(\d{1,2})(?!\d)", re.IGNORECASE)
_SDG_TEXT_WORDS = ("sdg", "ods", "odd", "global")  # every match of _SDG_TEXT contains one, case-folded
_SDG_TAG = re.compile(r"^(?:sdgs?|ods|odd|globalgoals?)_?(\d{1,2})$")
_WORD = re.compile(r"\w+")
_ENDINGS = ("es", "en", "s", "e", "n")  # plural and inflection endings a keyword may carry


def _forms(keyword: str) -> list[str]:
    """The keyword and its forms with an ending ('bird' also matches 'birds', 'armut' also 'armuten')."""
    return [keyword] + ([keyword + e for e in _ENDINGS] if len(keyword) >= 3 else [])



@lru_cache(maxsize=1 << 10)
def _language_code(source_language: str) -> str | None:
    """The source's language code ('en-GB' -> 'en'), or None when undetermined; a few distinct values: cached."""
    code = source_language.strip().lower().split("-")[0].split("_")[0]
    return code if code and code not in UNDETERMINED and re.fullmatch(r"[a-z]{2,3}", code) else None


# hashtags repeat across posts: normalise each distinct tag once
_normalised_hashtag = lru_cache(maxsize=1 << 14)(normalise_hashtag)


@lru_cache(maxsize=1 << 14)
def _tag_sdg(tag: str) -> int | None:
    """The SDG a normalised hashtag names (sdg13, ods5, globalgoals17), else None."""
    match = _SDG_TAG.match(tag)
    return int(match.group(1)) if match else None


def sdg_keyword_seed() -> Path:
    return config.project_dir() / "dbt" / "seeds" / "sdg_keyword.csv"


class Enricher:
    """Pseudonyms, language, sentiment and SDG mentions of one post; built once per load."""

    def __init__(self):
        from langdetect import DetectorFactory
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        DetectorFactory.seed = 0  # langdetect is random without a seed: same text, same language
        self.key = config.pseudonym_key()
        self.vader = SentimentIntensityAnalyzer()
        self.keywords = self._keyword_index()
        self.pseudonym = lru_cache(maxsize=1 << 16)(self._pseudonym)
        self.sentiment_of = lru_cache(maxsize=1 << 14)(self._sentiment)  # retweets repeat their text

    def _pseudonym(self, platform: str, value: str) -> str:
        return pseudonymise(value, f"social:{platform}", key=self.key)

    @staticmethod
    def _keyword_index() -> dict[str, tuple[dict, dict]]:
        """language -> (word form -> SDGs, first word -> [(middle words, last word forms, SDGs)]), from the
        seed sdg_keyword.

        Keywords match whole words of the case-folded text; the last word may carry a plural or inflection
        ending (the seed has one form per concept). The forms are spelled out here, so matching a post is
        one dictionary lookup per word.
        """
        path = sdg_keyword_seed()
        index: dict[str, tuple[dict, dict]] = {}
        if not path.is_file():
            return index
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                words = tuple(_WORD.findall(normalise_hashtag(row.get("keyword") or "")))
                try:
                    sdg = int(row.get("sdg") or "")
                except ValueError:
                    continue
                if not words or not 1 <= sdg <= 17:
                    continue
                single, multi = index.setdefault((row.get("language") or "").strip().lower() or "*", ({}, {}))
                if len(words) == 1:
                    for form in _forms(words[0]):
                        single.setdefault(form, set()).add(sdg)
                else:
                    multi.setdefault(words[0], []).append((words[1:-1], set(_forms(words[-1])), {sdg}))
        return index

    def definition(self) -> str:
        """What, besides the file, decides the loaded rows: a changed keyword seed loads files again."""
        seed = sdg_keyword_seed()
        seed_hash = hashlib.sha256(seed.read_bytes()).hexdigest() if seed.is_file() else "none"
        return f"social parser {PARSER_VERSION}; sdg keywords {seed_hash}"

    def language(self, source_language, text: str) -> tuple[str | None, bool]:
        code = _language_code(source_language) if isinstance(source_language, str) else None
        if code:
            return code, False
        return self.detect(text), True

    @staticmethod
    @lru_cache(maxsize=1 << 12)
    def detect(text: str) -> str | None:
        from langdetect import LangDetectException, detector_factory

        content = _NOISE.sub(" ", text or "")
        if sum(ch.isalpha() for ch in content) < 12:  # too short to tell
            return None
        detector_factory.init_factory()
        detector = detector_factory._factory.create()
        # 7 trials by default; on generated posts 1 seeded trial gave the same language for 99.5 % at 1/7 the cost
        detector.n_trial = 1
        detector.append(content)
        try:
            return detector.detect().split("-")[0]
        except LangDetectException:
            return None

    def _sentiment(self, text: str) -> float:
        return round(self.vader.polarity_scores(text)["compound"], 4)

    def sentiment(self, language: str | None, text: str) -> float | None:
        """VADER's compound score in [-1, 1]; VADER's lexicon is English, so other languages get null."""
        if language != "en" or not text:
            return None
        return self.sentiment_of(_RETWEET_PREFIX.sub("", text))  # a retweet scores as its original (cached)

    def sdgs(self, hashtags: list[str], text: str, language: str | None) -> list[int]:
        found = {sdg for sdg in map(_tag_sdg, hashtags) if sdg is not None}
        # the regex scans every position; most posts name no goal, which a substring test tells faster
        # (casefold covers what IGNORECASE matches here, e.g. 'ſ' -> 's')
        folded = text.casefold()
        if any(word in folded for word in _SDG_TEXT_WORDS):
            found.update(int(m.group(1)) for m in _SDG_TEXT.finditer(text))
        indexes = [self.keywords[lang] for lang in (language, "*") if lang in self.keywords]
        if text and indexes:
            words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
            present = set(words)
            for single, multi in indexes:
                # set intersections (in C) instead of a lookup per word: most words are no keyword
                for word in single.keys() & present:
                    found.update(single[word])
                firsts = multi.keys() & present
                if firsts:  # a multi-word keyword: check the words after each occurrence of its first word
                    for i, word in enumerate(words):
                        for middle, last_forms, sdgs in multi.get(word, ()) if word in firsts else ():
                            end = i + 1 + len(middle)
                            if end < len(words) and tuple(words[i + 1 : end]) == middle and words[end] in last_forms:
                                found.update(sdgs)
        return sorted(s for s in found if 1 <= s <= 17)

    def row(self, post: dict) -> tuple:
        """The raw.social_post values of a parsed post."""
        platform = post["platform"]
        text = post.get("text") or ""
        if len(text) > MAX_CELL_CHARS:  # before language detection and sentiment spend time on it
            raise BadPost("text", _too_long("text", text))
        language, detected = self.language(post.get("source_language"), text)
        hashtags = _unique(_normalised_hashtag(t) for t in post.get("hashtags", ()) if isinstance(t, str))
        mentions = post.get("mentions", ())  # (handle, stable id or None)
        return _check_text((
            post["source_format"], platform, post["post_id"], post["posted_at"], post["kind"],
            post.get("referenced_post_id"), post.get("author_handle"),
            self.pseudonym(platform, post["author_key"]), text or None,
            post.get("source_language") if isinstance(post.get("source_language"), str) else None,
            language, detected, self.sentiment(language, text), post.get("source_sentiment"), hashtags,
            _unique(h for h, _ in mentions), _unique(self.pseudonym(platform, key) for _, key in mentions),
            _unique(u for u in post.get("urls", ()) if isinstance(u, str)), self.sdgs(hashtags, text, language),
            post.get("like_count"), post.get("repost_count"), post.get("reply_count"), post.get("quote_count"),
            post.get("impression_count"), post.get("reach"), post.get("withheld_in"), post.get("tracked_term"),
        ))  # fmt: skip


# --- twitter_v2 ----------------------------------------------------------------------------------------

_KIND_OF_REFERENCE = {"retweeted": "repost", "quoted": "quote", "replied_to": "reply"}


def twitter_posts(path: Path, unmapped: Counter | None = None) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """(post number, post, reason, field, raw value) for each tweet of API v2 pages (JSON, JSONL or arrays).

    A page's `errors` for unavailable tweets (deleted, suspended, protected) are quarantined with their reason.
    NUL characters removed from strings are counted in `unmapped` (key path, NUL_REMOVED).
    """
    number = 0
    latest = _latest_post_at()
    nul_removed: Counter = Counter()
    for page_number, (page, error) in enumerate(iter_json_values(path, nul_removed), start=1):
        if error:
            number += 1
            yield number, None, f"page {page_number}: {error}", None, None
            continue
        if not isinstance(page, dict):
            number += 1
            yield number, None, f"page {page_number}: not a JSON object with `data`", None, snippet(page)
            continue
        if "data" not in page and "id" in page and "errors" not in page:
            page = {"data": [page]}  # a bare tweet object
        users = {}
        for user in _list(_dict(page.get("includes")).get("users")):
            if isinstance(user, dict) and isinstance(user.get("id"), (str, int)):
                users[str(user["id"])] = user
        data = page.get("data")
        tweets = [data] if isinstance(data, dict) else _list(data)
        if data is not None and not isinstance(data, (dict, list)):
            number += 1
            yield number, None, f"page {page_number}: `data` is not a list of tweets", "data", snippet(data)
        for tweet in tweets:
            number += 1
            try:
                yield number, _tweet(tweet, users, latest), None, None, None
            except BadPost as exc:
                yield number, None, f"page {page_number}: {exc}", exc.field, snippet(tweet)
            except RECORD_ERRORS as exc:
                yield number, None, f"page {page_number}: malformed tweet ({type(exc).__name__}: {exc})", None, snippet(tweet)
        for problem in _list(page.get("errors")):
            number += 1
            problem = _dict(problem)
            resource = problem.get("resource_id") or problem.get("value") or "?"
            title = problem.get("title") or "error"
            detail = problem.get("detail") or ""
            # a tweet of the request, or one an expansion names (a referenced tweet, a mentioned user)
            what = problem.get("resource_type") if isinstance(problem.get("resource_type"), str) else "tweet"
            yield number, None, f"page {page_number}: {what} {resource} not available ({title}: {detail})".strip(), "errors", snippet(problem)
    _record_nul(nul_removed, unmapped)


def _tweet(tweet, users: dict, latest: datetime) -> dict:
    if not isinstance(tweet, dict):
        raise BadPost(None, "a tweet is not a JSON object")
    post_id = _id(tweet.get("id"), "id")
    author_id = _id(tweet.get("author_id"), "author_id")
    note = _dict(tweet.get("note_tweet"))  # a post over 280 characters: `text` is its truncated start
    text = note.get("text") or tweet.get("text")
    if text is not None and not isinstance(text, str):
        raise BadPost("text", "text is not a string")
    references = {}
    for reference in map(_dict, _list(tweet.get("referenced_tweets"))):
        if reference.get("type") in _KIND_OF_REFERENCE:
            references.setdefault(reference["type"], _id(reference.get("id"), "referenced_tweets.id"))
    # a reply that quotes is a quote: retweet first, then quote, then reply
    kind, referenced = "original", None
    for ref_type, ref_kind in _KIND_OF_REFERENCE.items():
        if ref_type in references:
            kind, referenced = ref_kind, references[ref_type]
            break
    # the entities of the text kept: a long post's are in note_tweet (the top level's cover the truncated text)
    entities = _dict(note.get("entities")) if note.get("text") and "entities" in note else _dict(tweet.get("entities"))
    metrics = _dict(tweet.get("public_metrics"))
    withheld = tweet.get("withheld")
    withheld_in = None
    if isinstance(withheld, dict):
        withheld_in = [c for c in _list(withheld.get("country_codes")) if isinstance(c, str)]
        if withheld.get("copyright"):
            withheld_in.append("copyright")
    handle = _dict(users.get(author_id)).get("username")
    return {
        "source_format": "twitter_v2",
        "platform": "twitter",
        "post_id": post_id,
        "posted_at": _timestamp(tweet.get("created_at"), "created_at", latest),
        "kind": kind,
        "referenced_post_id": referenced,
        "author_handle": handle if isinstance(handle, str) else None,  # unknown when `includes` is missing
        "author_key": author_id,  # the stable account id, known even without `includes`
        "text": text,
        "source_language": tweet.get("lang"),
        "hashtags": [_dict(h).get("tag") for h in _list(entities.get("hashtags"))],
        "mentions": [
            (m["username"], str(m.get("id") or "@" + m["username"].casefold()))
            for m in map(_dict, _list(entities.get("mentions")))
            if isinstance(m.get("username"), str)
        ],
        "urls": [
            u.get("unwound_url") or u.get("expanded_url") or u.get("url") for u in map(_dict, _list(entities.get("urls")))
        ],
        "like_count": _count(metrics.get("like_count")),
        "repost_count": _count(metrics.get("retweet_count")),
        "reply_count": _count(metrics.get("reply_count")),
        "quote_count": _count(metrics.get("quote_count")),
        "impression_count": _count(metrics.get("impression_count")),
        "withheld_in": withheld_in,
    }


# --- mastodon ------------------------------------------------------------------------------------------

_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)
_HREF = re.compile(r"""<a\s[^>]*?href=["']([^"']+)["'][^>]*>""", re.IGNORECASE)


def mastodon_posts(path: Path, unmapped: Counter | None = None) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """(post number, post, reason, field, raw value) for each Status of a JSON array (or JSON lines).
    NUL characters removed from strings are counted in `unmapped` (key path, NUL_REMOVED)."""
    latest = _latest_post_at()
    nul_removed: Counter = Counter()
    for number, (status, error) in enumerate(iter_json_values(path, nul_removed), start=1):
        if error:
            yield number, None, error, None, None
            continue
        try:
            yield number, _status(status, latest), None, None, None
        except BadPost as exc:
            yield number, None, str(exc), exc.field, snippet(status)
        except RECORD_ERRORS as exc:
            yield number, None, f"malformed status ({type(exc).__name__}: {exc})", None, snippet(status)
    _record_nul(nul_removed, unmapped)


def _acct(account: dict) -> str:
    """user@instance: local accounts' `acct` lacks the instance, their `url` names it."""
    acct = account.get("acct") or account.get("username")
    if not isinstance(acct, str) or not acct.strip():
        raise BadPost("account.acct", "account.acct is missing")
    acct = acct.strip().lstrip("@")
    host = _host(account.get("url"))
    return acct if "@" in acct or not host else f"{acct}@{host}"


def _status_id(status: dict, field: str) -> str:
    """The status uri is its global id, but it names the author: keep its hash (the instance's id otherwise)."""
    uri = status.get("uri")
    return _sha(uri) if isinstance(uri, str) and uri.strip() else _id(status.get("id"), field)


def _status(status, latest: datetime) -> dict:
    if not isinstance(status, dict):
        raise BadPost(None, "a status is not a JSON object")
    if status.get("visibility") in ("private", "direct"):
        raise BadPost("visibility", f"not public (visibility {status['visibility']}): not collected")
    post_id = _status_id(status, "id")
    account = _dict(status.get("account"))
    if not account:
        raise BadPost("account", "account is missing")
    acct = _acct(account)
    reblog = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    quote = _dict(status.get("quote"))
    quoted = quote.get("quoted_status") if isinstance(quote.get("quoted_status"), dict) else (quote if "uri" in quote else None)
    if reblog:
        kind, referenced = "repost", _status_id(reblog, "reblog.id")
    elif quoted:
        kind, referenced = "quote", _status_id(quoted, "quote.id")
    elif status.get("in_reply_to_id") is not None:
        kind, referenced = "reply", _id(status.get("in_reply_to_id"), "in_reply_to_id")
    else:
        kind, referenced = "original", None
    content_of = reblog or status  # a reblog's own content is empty: the reblogged status carries it
    content = content_of.get("content") or ""
    if not isinstance(content, str):
        raise BadPost("content", "content is not a string")
    mentions = [m for m in map(_dict, _list(content_of.get("mentions"))) if isinstance(m.get("acct") or m.get("username"), str)]
    mention_urls = {m.get("url") for m in mentions}
    urls = [
        html.unescape(href) for href in _HREF.findall(content)
        if href not in mention_urls and "/tags/" not in href
    ]  # fmt: skip
    card_url = _dict(content_of.get("card")).get("url")
    if isinstance(card_url, str):
        urls.append(card_url)
    # inline tags go without a trace (Mastodon writes '#<span>tag</span>', '@<span>user</span>' and links as
    # '<span class="invisible">https://</span><span>example.org</span>'); paragraphs and breaks are new lines
    text = html.unescape(HTML_TAG.sub("", _BREAK.sub("\n", content))).strip()
    if status.get("spoiler_text") and isinstance(status["spoiler_text"], str):
        text = f"{status['spoiler_text']}\n{text}"
    handles = [_acct(m) for m in mentions]
    return {
        "source_format": "mastodon",
        "platform": "mastodon",
        "post_id": post_id,
        "posted_at": _timestamp(status.get("created_at"), "created_at", latest),
        "kind": kind,
        "referenced_post_id": referenced,
        "author_handle": acct,
        "author_key": "@" + acct.casefold(),
        "text": text,
        "source_language": status.get("language") or (reblog or {}).get("language"),
        "hashtags": [_dict(t).get("name") for t in _list(content_of.get("tags"))],
        "mentions": [(h, "@" + h.casefold()) for h in handles],
        "urls": urls,
        "like_count": _count(status.get("favourites_count")),
        "repost_count": _count(status.get("reblogs_count")),
        "reply_count": _count(status.get("replies_count")),
        "quote_count": _count(status.get("quotes_count")),
    }


# --- lynguo --------------------------------------------------------------------------------------------

_LYNGUO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d")
_OPINION = {"positiva": "positive", "positivo": "positive", "positive": "positive", "negativa": "negative",
            "negativo": "negative", "negative": "negative", "neutra": "neutral", "neutro": "neutral", "neutral": "neutral"}  # fmt: skip
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
        return _within_bounds(moment, "Fecha", text, latest)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadPost("Fecha", f"Fecha is not a date and time: {value[:40]!r}") from None
    return _within_bounds(moment if moment.tzinfo else moment.replace(tzinfo=UTC), "Fecha", text, latest)


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
    missing = [c for c in LYNGUO_COLUMNS if _header_key(c) in ("fecha", "texto", "usuario") and _header_key(c) not in positions]
    if missing:
        yield 1, None, (
            f"line 1: the header lacks {', '.join(missing)}; a Lynguo export has {';'.join(LYNGUO_COLUMNS)}"
        ), missing[0], snippet(";".join(header))
        return
    for name in LYNGUO_COLUMNS:
        places = [str(i + 1) for i, key in enumerate(keys) if key == _header_key(name)]
        if len(places) > 1:
            yield 1, None, (
                f"line 1: the header names {name} {len(places)} times (columns {', '.join(places)}): which one "
                f"holds the data is unknown, so the file was not read"
            ), name, snippet(";".join(header))
            return
    column = {c: positions.get(_header_key(c)) for c in LYNGUO_COLUMNS}
    latest = _latest_post_at()
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
                yield line, None, f"line {line}: malformed record ({type(exc).__name__}: {exc})", None, snippet(";".join(record))
    except UnterminatedQuote as exc:
        yield exc.line, None, (
            f"line {exc.line}: a quoted cell opened here is never closed (unterminated quote?): nothing after it "
            f"can be trusted, so this line and the rest of the file were not read"
        ), None, None
    if unmapped is not None:
        for name, n in reader.nul_cells.items():
            unmapped[(snippet(name), NUL_REMOVED)] += n


def _lynguo_record(record: list[str], column: dict, unmapped, latest: datetime) -> dict:
    for name, index in column.items():
        if index is not None:
            _clean_str(name, record[index])  # invalid bytes: refuse the record, naming the field

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
        post_id = _sha(link)  # post links name their author: keep a hash
    else:
        post_id = _sha(f"{cell('Fecha')}|{user}|{text}")
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


# --- loading -------------------------------------------------------------------------------------------


def parse(format: str, path: Path, unmapped=None) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    if format == "twitter_v2":
        return twitter_posts(path, unmapped)
    if format == "mastodon":
        return mastodon_posts(path, unmapped)
    if format == "lynguo":
        return lynguo_posts(path, unmapped)
    raise CstrackError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")


# Enrichment is most of a load's CPU time and posts are independent: large files are enriched by worker
# processes while this process parses and COPYs. Below this size a pool's start costs more than it saves.
PARALLEL_FROM_BYTES = 4 << 20
# one per core (this process's own parsing and COPY share them); on one core a pool only adds its overhead
WORKERS = 4
BATCH_POSTS = 500


def _enriched(enricher: Enricher, item: tuple) -> tuple:
    """One parsed item as record_load's row: enriched values, or None and the reason to quarantine it."""
    number, post, reason, field, raw_value = item
    if post is not None:
        try:
            return number, enricher.row(post), None, None, None
        except BadPost as exc:
            reason, field, raw_value = f"post {number}: {exc}", exc.field, None
    # reasons quote the input: keep them storable (no NUL, no lone surrogate)
    return number, None, snippet(reason or "unreadable"), field, raw_value


_worker_enricher: Enricher | None = None


def _start_worker(enricher: Enricher) -> None:
    global _worker_enricher
    _worker_enricher = enricher


def _enrich_batch(items: list[tuple]) -> list[tuple]:
    return [_enriched(_worker_enricher, item) for item in items]


def _in_workers(items: Iterator[tuple], enricher: Enricher, workers: int) -> Iterator[tuple]:
    """_enriched of every item, computed by `workers` processes, in input order. Forked workers inherit the
    built enricher: no second import, no second lexicon."""
    # load langdetect's profiles once, before the fork, rather than in every worker
    enricher.detect("Hoy contamos aves en el parque con el proyecto de ciencia ciudadana")
    for rows in pool.ordered_map(_enrich_batch, pool.batched(items, BATCH_POSTS), workers, _start_worker, (enricher,)):
        yield from rows


def prepared_rows(format: str, path: Path, enricher: Enricher, unmapped=None, workers: int = 0):
    """record_load's rows: (number, raw.social_post values or None, reason, field, raw value).

    Nothing is kept per post, so memory stays flat: a post twice in one file loads twice (two observations
    of the same load; dbt keeps the later row). With `workers` > 0 the same rows, in the same order, are
    computed by that many worker processes.
    """
    parsed = parse(format, path, unmapped)
    if workers > 0:
        yield from _in_workers(parsed, enricher, workers)
    else:
        for item in parsed:
            yield _enriched(enricher, item)


def load_social(
    format: str,
    data_path: str | Path,
    wh: warehouse.Warehouse | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> LoadResult:
    """Load one export of social posts into raw.social_post; the same content twice is a no-op.

    `workers`: processes that enrich the posts; by default WORKERS for files of PARALLEL_FROM_BYTES or more
    when the machine has idle cores, else none (this process does it). The loaded rows are the same either way.
    """
    if format not in FORMATS:
        raise CstrackError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")
    data_path = Path(data_path)
    if not data_path.is_file():
        raise CstrackError(f"{data_path}: data file not found")
    if workers is None:
        workers = pool.default_workers(data_path.stat().st_size, PARALLEL_FROM_BYTES, WORKERS)
    enricher = Enricher()
    unmapped: Counter = Counter()
    return record_load(
        kind="social",
        source_system=format,
        path=data_path,
        definition_hash=hashlib.sha256(enricher.definition().encode()).hexdigest(),
        table=TABLE,
        columns=COLUMNS,
        rows=prepared_rows(format, data_path, enricher, unmapped, workers),
        to_values=lambda values: values,
        column_types=COLUMN_TYPES,
        unmapped=unmapped,
        wh=wh,
        progress=progress,
    )


def format_of(path: Path) -> str | None:
    """The format a file name starts with: twitter_v2_2024.jsonl -> twitter_v2."""
    name = path.name.casefold()
    return next((f for f in FORMATS if name.startswith(f)), None)


def load_social_file(path: Path, wh: warehouse.Warehouse | None = None, format: str | None = None) -> LoadResult:
    """`cstrack load social FILE`: the format from --format, else from the file name."""
    format = format or format_of(Path(path))
    if format is None:
        raise CstrackError(f"{path}: say the format with --format ({', '.join(FORMATS)}) or start the file name with it")
    return load_social(format, path, wh)


def load_social_inbox(wh: warehouse.Warehouse | None = None, inbox: Path | None = None) -> list[LoadResult]:
    """Load every file of `<inbox>/social/` whose name starts with its format (twitter_v2*, mastodon*, lynguo*)."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    folder = (inbox or config.inbox()) / "social"
    results = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_file() or path.name.startswith("."):
            continue
        format = format_of(path)
        if format is None:
            raise CstrackError(f"{path}: the file name must start with one of {', '.join(FORMATS)}")
        result = load_social(format, path, wh)
        print(result.summary(), flush=True)
        results.append(result)
    return results
