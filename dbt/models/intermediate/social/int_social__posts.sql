-- One row per post (platform, post_id), merged field by field from all its observations. Observations are
-- ordered by load commit (ops.load_run.commit_seq), then by row in the file; each field takes the newest
-- observation that reports it (not null; arrays not empty), so a listening export without counts, language or
-- hashtags never erases what an API export gave. Fields every source reports (posted_at, format, author
-- pseudonym) come from the newest observation. Kind and referenced post come together from the newest
-- observation that names a referenced post (listening exports cannot tell a reply). Language, whether it was
-- detected and the sentiment come together from the newest observation whose source gave a language, else the
-- newest with a detected one. Engagement = likes + reposts + replies + quotes (null without counts).
{{ config(
    materialized='incremental', unique_key='post_key', incremental_strategy='delete+insert', on_schema_change='sync_all_columns',
    indexes=[{'columns': ['post_key'], 'unique': true}, {'columns': ['last_commit_seq']}, {'columns': ['posted_month']}],
) }}
{%- set latest_non_null = ['author_project_handle', 'source_sentiment', 'like_count', 'repost_count', 'reply_count',
    'quote_count', 'impression_count', 'reach', 'withheld_in'] %}
{%- set latest_non_empty = ['hashtags', 'mention_pseudonyms', 'mentioned_project_handles', 'urls', 'sdgs'] %}
-- Incremental: a build folds in only the posts observed by loads committed since the last build
-- (ops.load_run.commit_seq, see migration 0006), recomputed from all their observations; the other
-- posts keep their row. `dbt build --full-refresh` recomputes every post.
{# a table built before these columns existed is simply folded again, in full #}
{% if is_incremental() and 'posted_at_max' in adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
with new_observations as materialized (
    -- straight from raw (the staging view also joins the project accounts, which costs a sort of every post)
    -- an array of load ids: PostgreSQL reads each monthly partition's _load_id index (`in (select ...)` scans them all)
    select platform, post_id, posted_at from {{ source('raw_social', 'social_post') }}
    where _load_id = any(array(
        select load_id from {{ source('ops', 'load_run') }}
        where commit_seq > (select coalesce(max(last_commit_seq), 0) from {{ this }})
    ))
),

-- the posted_at range of every observation of these posts: the new ones, and the ones folded before (this
-- table keeps their range; a re-export can date a post days or months away from its first observation).
-- Bounds on posted_at let PostgreSQL skip the monthly partitions of raw.social_post the posts are not in.
bounds as materialized (
    select min(low) as low, max(high) as high from (
        select min(posted_at) as low, max(posted_at) as high from new_observations
        union all
        select min(posted_at_min), max(posted_at_max) from {{ this }}
        where post_key = any(array(select md5(platform || ':' || post_id) from new_observations))
    ) as b
),

observations as (
    select * from {{ ref('stg_social__posts') }}
    where posted_at between (select low from bounds) and (select high from bounds)
        and (platform, post_id) in (select platform, post_id from new_observations)
),
{% else %}
with observations as (
    select * from {{ ref('stg_social__posts') }}
),
{% endif %}

-- per observation: its place in the order, and which observation of its post reports each field newest
sources as (
    select
        o.*,
        max(o.seen) over post as newest,
        max(o.seen) filter (where o.referenced_post_id is not null) over post as reference_seen,
        max(o.language_rank) over post as language_seen,
        {%- for column in latest_non_null %}
        max(o.seen) filter (where o.{{ column }} is not null) over post as {{ column }}_seen,
        {%- endfor %}
        {%- for column in latest_non_empty %}
        max(o.seen) filter (where cardinality(o.{{ column }}) > 0) over post
            as {{ column }}_seen{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            array[load_commit_seq, source_row] as seen,
            -- a language the source gave (2) beats a detected one (1), which beats none (0); then the newest
            array[
                case when language is null then 0 when language_detected then 1 else 2 end, load_commit_seq, source_row
            ] as language_rank
        from observations
    ) as o
    window post as (partition by platform, post_id)
),

merged as (
    select
        platform,
        post_id,
        max(source_format) filter (where seen = newest) as source_format,
        max(posted_at) filter (where seen = newest) as posted_at,
        max(kind) filter (where seen = coalesce(reference_seen, newest)) as kind,
        max(referenced_post_id) filter (where seen = coalesce(reference_seen, newest)) as referenced_post_id,
        max(author_pseudonym) filter (where seen = newest) as author_pseudonym,
        max(language) filter (where language_rank = language_seen) as language,
        bool_or(language_detected) filter (where language_rank = language_seen) as language_detected,
        max(sentiment) filter (where language_rank = language_seen) as sentiment,
        {%- for column in latest_non_null + latest_non_empty %}
        max({{ column }}) filter (where seen = {{ column }}_seen) as {{ column }},
        {%- endfor %}
        count(*) as n_observations,
        min(loaded_at) as first_loaded_at,
        max(loaded_at) filter (where seen = newest) as last_loaded_at,
        max(load_commit_seq) as last_commit_seq,
        min(posted_at) as posted_at_min,
        max(posted_at) as posted_at_max
    from sources
    group by platform, post_id
)

select
    md5(platform || ':' || post_id) as post_key,
    platform,
    post_id,
    source_format,
    posted_at,
    date_trunc('month', posted_at at time zone 'UTC')::date as posted_month,
    kind,
    referenced_post_id,
    author_pseudonym,
    author_project_handle,
    language,
    language_detected,
    sentiment,
    source_sentiment,
    coalesce(hashtags, '{}') as hashtags,
    coalesce(mention_pseudonyms, '{}') as mention_pseudonyms,
    coalesce(mentioned_project_handles, '{}') as mentioned_project_handles,
    coalesce(urls, '{}') as urls,
    coalesce(sdgs, '{}') as sdgs,
    like_count,
    repost_count,
    reply_count,
    quote_count,
    impression_count,
    reach,
    case when coalesce(like_count, repost_count, reply_count, quote_count) is not null then
        coalesce(like_count, 0) + coalesce(repost_count, 0) + coalesce(reply_count, 0) + coalesce(quote_count, 0)
    end as engagement,
    withheld_in,
    n_observations,
    first_loaded_at,
    last_loaded_at,
    last_commit_seq,
    posted_at_min,
    posted_at_max
from merged
