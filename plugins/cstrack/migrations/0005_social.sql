-- Social posts (DESIGN.md §6.4): one row per observation of a post in one loaded file. Append-only:
-- a newer observation of the same (platform, post_id) is a new row; dbt picks the latest per key.
-- Text, handles and mentioned handles stay here (restricted schema); dbt reads only the derived columns.
-- posted_at is required, so the table can later become `partition by range (posted_at)` (monthly
-- partitions). No unique key: a post twice in one file (overlapping API pages) is two observations of that
-- load, and dbt keeps the later row; checking uniqueness while loading would cost memory per post.
create table raw.social_post (
    _load_id            bigint not null references ops.load_run,
    _source             text not null,
    _source_row         integer not null,          -- ordinal of the post in the file (CSV: first line of the record)
    _loaded_at          timestamptz not null default now(),
    source_format       text not null check (source_format in ('twitter_v2', 'mastodon', 'lynguo')),
    platform            text not null,             -- twitter | mastodon | facebook | ... (lynguo's Fuente)
    post_id             text not null,
    posted_at           timestamptz not null,
    kind                text not null check (kind in ('original', 'repost', 'quote', 'reply')),
    referenced_post_id  text,                      -- the reposted, quoted or replied-to post
    author_handle       text,                      -- personal data: never leaves raw (dbt keeps project accounts only)
    author_pseudonym    text not null,             -- privacy.pseudonymise(author id or handle, 'social:<platform>')
    text                text,                      -- personal data: never leaves raw
    source_language     text,                      -- as the source gives it (null, 'und' kept as given)
    language            text,                      -- source language, else detected offline (langdetect, seeded)
    language_detected   boolean not null default false,
    sentiment           double precision,          -- VADER compound, English posts only; null otherwise
    source_sentiment    text,                      -- the listening tool's own label (lynguo Opinion), normalised
    hashtags            text[] not null default '{}',  -- NFKC, case-folded, without '#', unique per post
    mention_handles     text[] not null default '{}',  -- personal data: never leaves raw
    mention_pseudonyms  text[] not null default '{}',
    urls                text[] not null default '{}',  -- expanded links in the post
    sdgs                integer[] not null default '{}', -- SDGs mentioned (hashtags, "SDG 13", keywords seed)
    like_count          bigint,
    repost_count        bigint,
    reply_count         bigint,
    quote_count         bigint,
    impression_count    bigint,
    reach               bigint,                    -- lynguo Impacto (estimated audience)
    withheld_in         text[],                    -- twitter: country codes (or 'copyright') where withheld
    tracked_term        text                       -- lynguo Marca: the brand/query the tool tracked
);
create index social_post_key on raw.social_post (platform, post_id, _load_id);
create index social_post_load on raw.social_post (_load_id);

-- the loader and the transformer get the same rights as on the other raw tables
grant select, insert, update on raw.social_post to cstrack_loader;
grant select on raw.social_post to cstrack_transformer;
