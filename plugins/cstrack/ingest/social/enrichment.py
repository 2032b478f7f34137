"""What a social post gets besides its parsed fields. At landing (`Enricher.row`): pseudonyms, normalised
hashtags, the source's language code. After landing (`Enricher.enrichment`, run by social/enrich.py month by
month): the language detected when the source gives none (CLD2), VADER sentiment and SDG mentions."""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from cstrack import config
from cstrack.ingest.readers import MAX_CELL_CHARS
from cstrack.ingest.social.posts import PARSER_VERSION, BadPost, check_text, normalise_hashtag, too_long
from cstrack.ingest.text import snippet
from cstrack.privacy import pseudonymiser

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


def _unique(values: list) -> list:
    """The values without repeats or empty ones, in order (most lists here hold none or one)."""
    if len(values) < 2:
        return [v for v in values if v]
    return list(dict.fromkeys(filter(None, values)))


def sdg_keyword_seed() -> Path:
    return config.seed_path("sdg_keyword")


# CLD2's codes that differ from the ISO 639-1 codes sources give (and langdetect gave before parser version 3)
_CLD2_CODES = {"iw": "he", "jw": "jv"}


class Enricher:
    """Pseudonyms and normalised values of a post at landing; language, sentiment and SDG mentions after it.
    Built once per load or enrichment run; VADER's lexicon and the keyword index load on first use (landing
    needs neither)."""

    def __init__(self):
        self.keyed_pseudonym = pseudonymiser(config.pseudonym_key())
        # authors post again and again; a bounded cache keeps a load's memory flat (about 5 MB when full)
        self.pseudonym = lru_cache(maxsize=1 << 14)(self._pseudonym)
        self.sentiment_of = lru_cache(maxsize=1 << 14)(self._sentiment)  # retweets repeat their text
        self._vader = self._keywords = None

    @property
    def vader(self):
        if self._vader is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
        return self._vader

    @property
    def keywords(self) -> dict[str, tuple[dict, dict]]:
        if self._keywords is None:
            self._keywords = self._keyword_index()
        return self._keywords

    def _pseudonym(self, platform: str, value: str) -> str:
        return self.keyed_pseudonym(value, f"social:{platform}")

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

    @staticmethod
    @lru_cache(maxsize=1 << 12)
    def detect(text: str) -> str | None:
        """The language of a text, or None when it is too short or CLD2 cannot tell. CLD2 (compiled, about
        100 times faster than langdetect) in best-effort mode; deterministic."""
        import pycld2

        content = _NOISE.sub(" ", text or "")
        if sum(ch.isalpha() for ch in content) < 12:  # too short to tell
            return None
        try:
            code = pycld2.detect(content, bestEffort=True)[2][0][1]
        except pycld2.error:  # a character CLD2 refuses (some control characters)
            return None
        if code in ("un", "xxx"):
            return None
        code = code.split("-")[0]
        return _CLD2_CODES.get(code, code)

    def _sentiment(self, text: str) -> float:
        return round(self.vader.polarity_scores(text)["compound"], 4)

    def sentiment(self, language: str | None, text: str) -> float | None:
        """VADER's compound score in [-1, 1]; VADER's lexicon is English, so other languages get null."""
        if language != "en" or not text:
            return None
        return self.sentiment_of(_RETWEET_PREFIX.sub("", text))  # a retweet scores as its original (cached)

    def sdgs(self, hashtags: list[str], text: str, language: str | None) -> list[int]:
        found = {sdg for sdg in map(_tag_sdg, hashtags) if sdg is not None} if hashtags else set()
        # the regex scans every position; most posts name no goal, which a substring test tells faster (on the
        # NFKC case-folded text the keywords need anyway: it covers what IGNORECASE matches, e.g. 'ſ' -> 's')
        folded = unicodedata.normalize("NFKC", text).casefold()
        if any(word in folded for word in _SDG_TEXT_WORDS):
            found.update(int(m.group(1)) for m in _SDG_TEXT.finditer(text))
        indexes = [self.keywords[lang] for lang in (language, "*") if lang in self.keywords]
        if text and indexes:
            words = _WORD.findall(folded)
            present = set(words)
            for single, multi in indexes:
                # set intersections (in C) instead of a lookup per word: most words are no keyword
                for word in single.keys() & present:
                    found.update(single[word])
                firsts = multi.keys() & present
                # a multi-word keyword: check the words after each occurrence of its first word
                for i in [i for i, word in enumerate(words) if word in firsts] if firsts else ():
                    for middle, last_forms, sdgs in multi[words[i]]:
                        end = i + 1 + len(middle)
                        if end < len(words) and tuple(words[i + 1 : end]) == middle and words[end] in last_forms:
                            found.update(sdgs)
        return sorted(s for s in found if 1 <= s <= 17)

    def enrichment(self, source_language: str | None, text: str | None, hashtags: list[str]) -> tuple:
        """(language, language_detected, sentiment, sdgs) of a landed post: the source's language when it gives
        one, else the detected one."""
        text = text or ""
        language = _language_code(source_language) if isinstance(source_language, str) else None
        detected = language is None
        if detected:
            language = self.detect(text)
        return language, detected, self.sentiment(language, text), self.sdgs(hashtags, text, language)

    def row(self, post: dict) -> tuple:
        """The raw.social_post values of a parsed post as it lands: the source's language code, no detected
        language, sentiment or SDGs yet (social/enrich.py adds them)."""
        platform = post["platform"]
        text = post.get("text") or ""
        if len(text) > MAX_CELL_CHARS:
            raise BadPost("text", too_long("text", text))
        source_language = post.get("source_language")
        language = _language_code(source_language) if isinstance(source_language, str) else None
        tags, urls = post.get("hashtags"), post.get("urls")
        hashtags = _unique([_normalised_hashtag(t) for t in tags if isinstance(t, str)]) if tags else []
        mentions = post.get("mentions")  # (handle, stable id or None)
        handles = _unique([h for h, _ in mentions]) if mentions else []
        mentioned = _unique([self.pseudonym(platform, key) for _, key in mentions]) if mentions else []
        return check_text((
            post["source_format"], platform, post["post_id"], post["posted_at"], post["kind"],
            post.get("referenced_post_id"), post.get("author_handle"),
            self.pseudonym(platform, post["author_key"]), text or None,
            source_language if isinstance(source_language, str) else None,
            language, False, None, post.get("source_sentiment"), hashtags, handles, mentioned,
            _unique([u for u in urls if isinstance(u, str)]) if urls else [], [],
            post.get("like_count"), post.get("repost_count"), post.get("reply_count"), post.get("quote_count"),
            post.get("impression_count"), post.get("reach"), post.get("withheld_in"), post.get("tracked_term"),
        ))  # fmt: skip

    def landed(self, item: tuple) -> tuple:
        """One parsed item (number, post, reason, field, raw value) as a load's row: the values it lands with, or
        None and the reason to quarantine it."""
        number, post, reason, field, raw_value = item
        if post is not None:
            try:
                return number, self.row(post), None, None, None
            except BadPost as exc:
                reason, field, raw_value = f"post {number}: {exc}", exc.field, None
        # reasons quote the input: keep them storable (no NUL, no lone surrogate)
        return number, None, snippet(reason or "unreadable"), field, raw_value
