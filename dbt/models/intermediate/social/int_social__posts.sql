-- One row per post (platform, post_id): the latest observation (a later load, then a later row of it).
-- Metrics come from the latest observation that has any, so a listening export without counts does not
-- erase the counts an API export gave. Engagement = likes + reposts + replies + quotes (null without counts).
{{ config(
    materialized='incremental', unique_key='post_key', incremental_strategy='delete+insert', on_schema_change='sync_all_columns',
    indexes=[{'columns': ['post_key'], 'unique': true}, {'columns': ['last_commit_seq']}, {'columns': ['posted_month']}],
) }}
-- Incremental: a build folds in only the posts observed by loads committed since the last build
-- (ops.load_run.commit_seq, see migration 0006), recomputed from all their observations; the other
-- posts keep their row. `dbt build --full-refresh` recomputes every post.
{# a table built before last_commit_seq existed is simply folded again, in full #}
{% if is_incremental() and 'last_commit_seq' in adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
with new_observations as materialized (
    -- straight from raw (the staging view also joins the project accounts, which costs a sort of every post)
    select platform, post_id, posted_at from {{ source('raw_social', 'social_post') }}
    where _load_id in (
        select load_id from {{ source('ops', 'load_run') }}
        where commit_seq > (select coalesce(max(last_commit_seq), 0) from {{ this }})
    )
),

observations as (
    select * from {{ ref('stg_social__posts') }}
    -- the observations of one post lie within days of each other (sources differ in precision and time
    -- zone): bounds on posted_at let PostgreSQL skip the monthly partitions of raw.social_post the new
    -- posts are not in, instead of reading every post
    where posted_at between (select min(posted_at) - interval '2 days' from new_observations)
        and (select max(posted_at) + interval '2 days' from new_observations)
        and (platform, post_id) in (select platform, post_id from new_observations)
),
{% else %}
with observations as (
    select * from {{ ref('stg_social__posts') }}
),
{% endif %}

latest as (
    select distinct on (platform, post_id) *
    from observations
    order by platform, post_id, load_id desc, source_row desc
),

latest_metrics as (
    select distinct on (platform, post_id)
        platform, post_id, like_count, repost_count, reply_count, quote_count, impression_count, reach
    from observations
    where coalesce(like_count, repost_count, reply_count, quote_count, impression_count, reach) is not null
    order by platform, post_id, load_id desc, source_row desc
),

history as (
    select
        platform, post_id, count(*) as n_observations, min(loaded_at) as first_loaded_at,
        max(load_commit_seq) as last_commit_seq
    from observations
    group by platform, post_id
)

select
    md5(l.platform || ':' || l.post_id) as post_key,
    l.platform,
    l.post_id,
    l.source_format,
    l.posted_at,
    date_trunc('month', l.posted_at at time zone 'UTC')::date as posted_month,
    l.kind,
    l.referenced_post_id,
    l.author_pseudonym,
    l.author_project_handle,
    l.language,
    l.language_detected,
    l.sentiment,
    l.source_sentiment,
    l.hashtags,
    l.mention_pseudonyms,
    l.mentioned_project_handles,
    l.urls,
    l.sdgs,
    m.like_count,
    m.repost_count,
    m.reply_count,
    m.quote_count,
    m.impression_count,
    m.reach,
    case when coalesce(m.like_count, m.repost_count, m.reply_count, m.quote_count) is not null then
        coalesce(m.like_count, 0) + coalesce(m.repost_count, 0) + coalesce(m.reply_count, 0) + coalesce(m.quote_count, 0)
    end as engagement,
    l.withheld_in,
    h.n_observations,
    h.first_loaded_at,
    l.loaded_at as last_loaded_at,
    h.last_commit_seq
from latest as l
left join latest_metrics as m on m.platform = l.platform and m.post_id = l.post_id
inner join history as h on h.platform = l.platform and h.post_id = l.post_id
