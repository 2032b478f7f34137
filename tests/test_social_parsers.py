"""Social parsers on the hand-written fixtures (tests/fixtures/social) and on small inline files: no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cstrack.ingest.social import json_stream
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.load import format_of, parse
from cstrack.ingest.social.posts import normalise_hashtag

pytestmark = pytest.mark.fast  # no database, dbt build, browser or Airflow run

FIXTURES = Path(__file__).parent / "fixtures" / "social"


@pytest.fixture(scope="module")
def enricher():
    import os

    os.environ.setdefault("CSTRACK_PSEUDONYM_KEY", "test-key")
    return Enricher()


def parsed(format: str, path: Path) -> tuple[dict[str, dict], list[tuple]]:
    """Posts by post_id, and the quarantined (number, reason, field)."""
    posts, rejected = {}, []
    for number, post, reason, field, _ in parse(format, path):
        if post is None:
            rejected.append((number, reason, field))
        else:
            posts[post["post_id"]] = post
    return posts, rejected


def test_json_values_stream_arrays_lines_and_concatenated_documents(tmp_path):
    cases = {
        "array.json": ('[{"a": 1}, {"a": 2},\n {"a": [3, 4]}]', [{"a": 1}, {"a": 2}, {"a": [3, 4]}]),
        "lines.jsonl": ('{"a": 1}\n\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
        "concatenated.json": ('{"a": 1}{"a": 2} 12345', [{"a": 1}, {"a": 2}, 12345]),
        "bom.json": ("\ufeff[1, 2]", [1, 2]),
        "empty.json": ("  \n", []),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert [value for value, error in json_stream.iter_json_values(path)] == expected, name


def test_json_values_cross_chunk_boundaries(tmp_path, monkeypatch):
    """Values and numbers split across the read-ahead are read whole (a tiny chunk forces every split)."""
    monkeypatch.setattr(json_stream, "CHUNK_CHARS", 7)
    values = [{"id": str(i), "text": "é" * i, "n": 10**i} for i in range(30)]
    path = tmp_path / "pages.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    assert [v for v, _ in json_stream.iter_json_values(path)] == values
    path.write_text("\n".join(json.dumps(v) for v in values) + "\n12345678901234", encoding="utf-8")
    assert [v for v, _ in json_stream.iter_json_values(path)] == values + [12345678901234]


def test_a_bad_json_line_costs_that_line_and_a_bad_array_element_stops_the_array(tmp_path):
    path = tmp_path / "lines.jsonl"
    path.write_text('{"a": 1}\n{"a": 2, oops}\n{"a": 3}\n', encoding="utf-8")
    got = list(json_stream.iter_json_values(path))
    assert [v for v, e in got if e is None] == [{"a": 1}, {"a": 3}]
    assert [e for v, e in got if e] == [
        "not valid JSON at line 2, column 10: Expecting property name enclosed in double quotes"
    ]
    path = tmp_path / "array.json"
    path.write_text('[{"a": 1}, {"a": 2} {"a": 3}]', encoding="utf-8")
    got = list(json_stream.iter_json_values(path))
    assert got[0] == ({"a": 1}, None) and got[1] == ({"a": 2}, None)
    assert got[2][1].endswith("the rest of the file was not read") and len(got) == 3


def test_twitter_kinds_metrics_withheld_emoji_and_non_latin_hashtags():
    posts, rejected = parsed("twitter_v2", FIXTURES / "twitter_v2_page.json")
    kinds = {pid[-1]: p["kind"] for pid, p in posts.items()}
    assert kinds == {
        "1": "original",
        "2": "repost",
        "3": "quote",
        "4": "reply",
        "5": "original",
        "6": "original",
        "7": "original",
    }
    assert posts["1700000000000000002"]["referenced_post_id"] == "1700000000000000001"
    original = posts["1700000000000000001"]
    assert original["author_handle"] == "nl_lichtmeting_demo" and original["like_count"] == 12
    assert original["impression_count"] == 900 and "🌌" in original["text"]
    assert posts["1700000000000000004"]["hashtags"] == ["CienciaCiudadana", "市民科学"]
    assert posts["1700000000000000005"]["withheld_in"] == ["DE", "FR"]
    # the page's `errors`: a deleted tweet is quarantined with the API's reason
    assert rejected == [
        (
            8,
            "page 1: tweet 1700000000000000099 not available"
            " (Not Found Error: Could not find tweet with ids: [1700000000000000099].)",
            "errors",
        )
    ]


def test_twitter_pages_without_includes_and_broken_lines():
    posts, rejected = parsed("twitter_v2", FIXTURES / "twitter_v2_pages.jsonl")
    assert set(posts) == {"1700000000000000010", "1700000000000000011"}
    assert posts["1700000000000000010"]["like_count"] == 9  # the same tweet on an overlapping page, later
    assert posts["1700000000000000011"]["author_handle"] is None  # no `includes` on that page
    assert posts["1700000000000000011"]["author_key"] == "5558"  # the pseudonym still has a stable id
    assert rejected[0] == (3, "page 2: author_id is missing", "author_id")
    assert rejected[1][0] == 4 and rejected[1][1].startswith("page 3: not valid JSON at line 3, column")


def test_mastodon_reblog_quote_reply_and_privacy_of_ids():
    posts, rejected = parsed("mastodon", FIXTURES / "mastodon_statuses.json")
    by_author = {(p["author_handle"], p["kind"]): p for p in posts.values()}
    original = by_author[("openpv_demo@fediscience.org", "original")]
    reblog = by_author[("ana_private_person@mastodon.social", "repost")]
    assert reblog["referenced_post_id"] == original["post_id"]  # the same uri, hashed the same way
    assert reblog["hashtags"] == ["OpenPV", "SDG7"]  # a reblog's content is the reblogged status's
    reply = by_author[("ana_private_person@mastodon.social", "reply")]
    assert reply["mentions"] == [("openpv_demo@fediscience.org", "@openpv_demo@fediscience.org")]
    assert reply["urls"] == [] and "J'ai ajouté" in reply["text"] and "<" not in reply["text"]
    quote = by_author[("hiro_private_person@mstdn.jp", "quote")]
    assert quote["urls"] == ["https://www.universiteitleiden.nl/citizensciencelab/projecten/evoscope---koolmezen"]
    assert quote["hashtags"] == ["市民科学"]
    for post in posts.values():  # a status uri names its author: post ids are hashes of it
        assert "private_person" not in post["post_id"] and "private_person" not in (post["referenced_post_id"] or "")
    assert [(n, f) for n, _, f in rejected] == [(5, "visibility"), (6, "created_at")]
    assert rejected[0][1] == "not public (visibility direct): not collected"


def test_lynguo_invalid_bytes_are_quarantined_with_their_line_and_the_rest_loads():
    posts, rejected = parsed("lynguo", FIXTURES / "lynguo_export.csv")
    assert rejected == [
        (5, "line 5: invalid UTF-8 bytes (or a lone surrogate) in Texto", "Texto"),
        (7, "line 7: Fecha is not a date and time: 'not a date'", "Fecha"),
    ]
    assert len(posts) == 4
    tweet = posts["1700000000000000020"]  # a Twitter link gives the tweet's own id
    assert tweet["platform"] == "twitter" and tweet["reach"] == 1250 and tweet["source_sentiment"] == "positive"
    multiline = next(p for p in posts.values() if p["platform"] == "facebook")
    assert (
        "punto y coma\ny un salto" in multiline["text"]
        and multiline["posted_at"].isoformat() == "2024-03-12T11:30:00+00:00"
    )
    assert "luis_private_person" not in multiline["post_id"]
    repost = next(p for p in posts.values() if p["platform"] == "instagram")
    assert repost["kind"] == "repost" and repost["mentions"] == [("nl_lichtmeting_demo", "@nl_lichtmeting_demo")]


def test_lynguo_header_without_required_columns_is_one_quarantined_row(tmp_path):
    path = tmp_path / "lynguo_wrong.csv"
    path.write_text("date,text\n2024-01-01,hello\n", encoding="utf-8")
    (row,) = list(parse("lynguo", path))
    assert row[0] == 1 and row[1] is None
    assert row[2] == (
        "line 1: the header lacks Fecha, Texto, Usuario;"
        " a Lynguo export has Fecha;Fuente;Texto;Enlace;Marca;Usuario;Opinion;Impacto"
    )


def test_enrichment_language_sentiment_sdgs_hashtags(enricher):
    assert normalise_hashtag("＃CitizenScience") == "citizenscience"
    assert normalise_hashtag("#ＳＤＧ１３") == "sdg13"  # full-width forms fold (NFKC)
    assert enricher.enrichment("en-GB", "", []) == ("en", False, None, [])
    assert enricher.enrichment("und", "Hoy contamos aves en el parque con el proyecto de ciencia ciudadana", []) == (
        "es",
        True,
        None,
        [15],
    )  # fmt: skip  (aves: the seed's Spanish keyword of SDG 15)
    assert enricher.enrichment(None, "ok 👍", []) == (None, True, None, [])  # too short to tell
    # CLD2 on a few languages of European projects; Hebrew comes as CLD2's old code 'iw' and is given as 'he'
    assert enricher.detect("Wir zählen heute Vögel im Park mit dem Bürgerwissenschaftsprojekt") == "de"
    assert enricher.detect("Vandaag tellen we vogels in het park met het burgerwetenschapsproject") == "nl"
    assert enricher.detect("Aujourd'hui nous comptons les oiseaux dans le parc avec le projet") == "fr"
    assert enricher.detect("היום אנחנו סופרים ציפורים בפארק עם פרויקט המדע האזרחי") == "he"
    assert enricher.sentiment("en", "I love this wonderful project!") > 0.5
    assert enricher.sentiment("en", "This is terrible and sad") < -0.5
    assert enricher.sentiment("es", "¡Me encanta!") is None  # VADER is English-only
    assert enricher.sdgs(["sdg13", "ods5", "globalgoals17"], "", None) == [5, 13, 17]
    assert enricher.sdgs([], "Working on SDG 6 and Global Goal 14, not SDG 18", "en") == [6, 14]
    # keywords of the seed sdg_keyword, in the post's language only
    assert 1 in enricher.sdgs([], "Fighting poverty with data", "en")
    assert 1 not in enricher.sdgs([], "Fighting poverty with data", "de")


def test_format_from_file_name():
    assert format_of(Path("twitter_v2_2024-05.jsonl")) == "twitter_v2"
    assert format_of(Path("Mastodon-export.json")) == "mastodon"
    assert format_of(Path("lynguo.csv")) == "lynguo"
    assert format_of(Path("facebook.csv")) is None


def test_json_lines_fast_path_keeps_what_orjson_would_read_otherwise(tmp_path):
    """orjson reads integers beyond 64 bits as floats and refuses NaN and lone surrogates: such lines go to the
    json module and read exactly as before; ordinary lines are the same either way."""
    lines = [
        '{"id": 123456789012345678901234, "n": -92233720368547758090}',  # beyond 64 bits: exact ints
        '{"id": "1600000000000000000000", "n": 12}',  # a long digit run inside a string: same value
        '{"n": NaN}',  # json accepts NaN, orjson does not
        '{"t": "a \\ud800 b"}',  # a lone surrogate escape
        '{"t": "x\\u0000y", "ok": [1, 2.5, true, null]}',  # a NUL removed on the fast path too
    ]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = [value for value, error in json_stream.iter_json_values(path)]
    expected = [json.loads(line) for line in lines]
    expected[4]["t"] = "xy"
    assert read[:3] == expected[:3] and read[4] == expected[4]
    assert type(read[0]["id"]) is int and read[0]["n"] == -92233720368547758090
    assert read[3]["t"] == "a \ud800 b"  # kept for the caller to refuse (invalid UTF-8 in text)
