"""Social posts (docs/design-notes.md §6.4): Twitter/X API v2 pages, Mastodon statuses and Lynguo CSV exports.

Each format has a streaming parser that yields one post at a time, so memory is bounded whatever the
file size:
- JSON (twitter_v2, mastodon) is read by `iter_json_values`: the elements of a top-level array, or a
  sequence of top-level values (one page, JSON lines, concatenated pages), one value at a time (JSON lines as
  bytes by orjson). Memory holds one value (a Twitter page or a Mastodon status) plus a 1 MiB read-ahead; a
  single value larger than MAX_VALUE_CHARS (64 Mi characters) is quarantined instead of read.
- CSV (lynguo) is read record by record by the shared strict reader (readers.CsvFile).

What a source delivers either loads or is quarantined in ops.quarantine with its reason, never merged
and never sent to PostgreSQL half-clean: a post dated before FIRST_POST_AT (2006-03-21, the first
tweet) or after now + 1 day, or not representable (year 0, year 10000 once its offset applies); JSON
nested too deeply or a number too long to read; a string over readers.MAX_CELL_CHARS; invalid UTF-8
bytes; a CSV record with more or fewer fields than the header; a quoted CSV cell never closed (that
line and the rest of the file, one quarantined record). NUL characters are removed wherever they are
(`\\u0000` escapes in JSON, NUL bytes in CSV cells) and counted per field in ops.unmapped_values
(value readers.NUL_REMOVED).

Posts land in `raw.social_post` with COPY through `loading.Load` (pseudonyms, normalised hashtags, the source's
language), then are enriched month by month (`enrich`: detected language, VADER sentiment, SDG mentions). Text and
handles stay in `raw`; dbt reads only the derived columns. Every input either loads or is quarantined with a
reason.

Modules: `posts` (what every format shares: columns, time bounds, value helpers, storable text),
`json_stream` (the streaming JSON reader), one parser per format (`twitter_v2`, `mastodon`, `lynguo`),
`enrichment` (pseudonyms at landing; language, sentiment, SDG mentions after it), `load` (dispatch by format,
COPY through loading.Load, the inbox), `landing_workers` (a large JSON lines export landed by forked workers) and
`enrich` (the enrichment step, restartable, month by month).
"""
