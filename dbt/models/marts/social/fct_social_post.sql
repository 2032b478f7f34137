-- indexes serve the delete+insert and catch-up by post (unique post_key), the period filter, the joins on
-- project_key and the incremental builds (last_commit_seq)
{{ config(
    materialized='incremental', unique_key='post_key', incremental_strategy='delete+insert', on_schema_change='fail',
    indexes=[{'columns': ['post_key'], 'unique': True}, {'columns': ['posted_month']}, {'columns': ['project_key']},
             {'columns': ['last_commit_seq']}],
) }}
-- One row per post. No text and no handle of a private person: authors are pseudonyms, handles only
-- for project accounts. project_key: the best link to a catalogued project (null when unlinked).
-- Incremental: the posts refolded since this table's newest last_commit_seq replace their rows.
with posts as (
    select * from {{ ref('int_social__posts') }}
    {% if is_incremental() %}
    where {{ committed_after_this() }}
    {% endif %}
),

best_link as (
    select distinct on (post_key) post_key, project_key, link_method
    from {{ ref('int_social__post_projects') }}
    {% if is_incremental() %}
    where post_key in (select post_key from posts)
    {% endif %}
    order by post_key, priority, project_key
)

select
    p.post_key,
    p.platform,
    p.post_id,
    p.source_format,
    p.posted_at,
    p.posted_month,
    p.kind,
    p.referenced_post_id,
    p.author_pseudonym,
    p.author_project_handle as author_handle,
    p.author_project_handle is not null as is_project_account,
    l.project_key,
    l.link_method,
    p.language,
    p.language_detected,
    p.sentiment,
    p.source_sentiment,
    p.like_count,
    p.repost_count,
    p.reply_count,
    p.quote_count,
    p.impression_count,
    p.reach,
    p.engagement,
    cardinality(p.hashtags) as n_hashtags,
    cardinality(p.mention_pseudonyms) as n_mentions,
    cardinality(p.urls) as n_urls,
    cardinality(p.sdgs) as n_sdgs,
    p.withheld_in is not null as is_withheld,
    p.n_observations::int as n_observations,
    p.first_loaded_at,
    p.last_loaded_at,
    p.last_commit_seq
from posts as p
left join best_link as l on l.post_key = p.post_key
