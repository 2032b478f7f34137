"""What every social format shares: the raw.social_post columns, the post time bounds, the value helpers
of the parsers and the check that a row's text is storable in PostgreSQL."""

from __future__ import annotations

import hashlib
import operator
import unicodedata
from datetime import UTC, datetime, timedelta

from cstrack.ingest.readers import MAX_CELL_CHARS

FORMATS = ("twitter_v2", "mastodon", "lynguo")
# Bump when parsing or enrichment changes: files then load again as new observations (dbt keeps the latest).
PARSER_VERSION = "3"  # 3: language detection (CLD2), sentiment and SDGs after landing (social/enrich.py)
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


# --- value helpers -------------------------------------------------------------------------------------


def normalise_hashtag(tag: str) -> str:
    """NFKC, case-folded, without the leading '#' (so #CitizenScience, #citizenscience and ＃CITIZENSCIENCE agree)."""
    return unicodedata.normalize("NFKC", tag).casefold().lstrip("#").strip()


def latest_post_at() -> datetime:
    """The latest post time a load accepts: now + 1 day (taken once per file)."""
    return datetime.now(UTC) + FUTURE_SLACK


def timestamp(value, field: str, latest: datetime) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise BadPost(field, f"{field} is missing")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadPost(field, f"{field} is not an ISO timestamp (years 0001 to 9999): {value[:60]!r}") from None
    return within_bounds(moment if moment.tzinfo else moment.replace(tzinfo=UTC), field, value, latest)


def within_bounds(moment: datetime, field: str, value: str, latest: datetime) -> datetime:
    """`moment` if a post can have been made then; BadPost naming the field and value otherwise. Aware
    datetimes compare in UTC without overflow, so 9999-12-31T23:00-05:00 (year 10000 in UTC) is 'after'."""
    if moment < FIRST_POST_AT:
        raise BadPost(
            field,
            f"{field} {value.strip()[:60]!r} is before 2006-03-21T00:00Z (the first tweet): impossible for a post",
        )
    if moment > latest:
        raise BadPost(
            field,
            f"{field} {value.strip()[:60]!r} is after now + 1 day ({latest:%Y-%m-%dT%H:%MZ}): impossible for a post",
        )
    return moment


def count(value) -> int | None:
    """A metric: a non-negative integer, else null."""
    if type(value) is int and 0 <= value <= MAX_BIGINT:  # type(): True is no count
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_BIGINT:
        return int(value)
    return None


def identifier(value, field: str) -> str:
    if type(value) is str and (stripped := value.strip()):  # the usual case first
        return stripped
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise BadPost(field, f"{field} is missing")
    return str(value).strip()


def sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


# --- text storable in PostgreSQL -----------------------------------------------------------------------


_TEXTS = operator.itemgetter(*(i for i, t in enumerate(COLUMN_TYPES) if t == "text"))
_TEXT_ARRAYS = operator.itemgetter(*(i for i, t in enumerate(COLUMN_TYPES) if t == "text[]"))


def check_text(values: tuple) -> tuple:
    """PostgreSQL text holds no NUL and only valid Unicode: drop NULs, refuse lone surrogates (invalid bytes)."""
    strings = _TEXTS(values)
    for array in _TEXT_ARRAYS(values):
        if array:
            strings += tuple(array)
    for string in strings:  # string by string: joining text of mixed widths (emoji) costs more than this
        if type(string) is str and (
            "\x00" in string or len(string) > MAX_CELL_CHARS or not (string.isascii() or _encodes(string))
        ):
            return _cleaned(values)
    return values  # the common case


def _cleaned(values: tuple) -> tuple:
    """The row without NULs, or BadPost for a string too long or with a lone surrogate."""
    for column, value in zip(COLUMNS, values, strict=False):
        for string in value if isinstance(value, list) else (value,):
            if isinstance(string, str) and len(string) > MAX_CELL_CHARS:
                raise BadPost(column, too_long(column, string))
    cleaned = []
    for column, value in zip(COLUMNS, values, strict=False):
        if isinstance(value, str):
            value = clean_str(column, value)
        elif isinstance(value, list):
            value = [clean_str(column, v) if isinstance(v, str) else v for v in value]
        cleaned.append(value)
    return tuple(cleaned)


def too_long(field: str, value: str) -> str:
    return f"{field} is {len(value)} characters long, over the limit of {MAX_CELL_CHARS} ({MAX_CELL_CHARS // 1024} KiB)"


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def clean_str(column: str, value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadPost(column, f"invalid UTF-8 bytes (or a lone surrogate) in {column}") from None
    return value
