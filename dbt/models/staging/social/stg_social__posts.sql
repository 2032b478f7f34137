-- One row per observation of a post. Text, handles and mentioned handles stay in raw: only derived
-- columns leave it, and the handles of project accounts (seed project_social_account).
with accounts as (
    select lower(platform) as platform, lower(ltrim(handle, '@')) as handle_key, handle
    from {{ ref('project_social_account') }}
)

select
    p.platform,
    p.post_id,
    p._load_id as load_id,
    l.commit_seq as load_commit_seq,
    p._source_row as source_row,
    p._loaded_at as loaded_at,
    p.source_format,
    p.posted_at,
    p.kind,
    p.referenced_post_id,
    p.author_pseudonym,
    a.handle as author_project_handle,
    p.language,
    p.language_detected,
    p.sentiment,
    p.source_sentiment,
    p.hashtags,
    p.mention_pseudonyms,
    array(
        select distinct m.handle
        from unnest(p.mention_handles) as h (handle)
        inner join accounts as m on m.platform = p.platform and m.handle_key = lower(ltrim(h.handle, '@'))
    ) as mentioned_project_handles,
    p.urls,
    p.sdgs,
    p.like_count,
    p.repost_count,
    p.reply_count,
    p.quote_count,
    p.impression_count,
    p.reach,
    p.withheld_in
from {{ source('raw_social', 'social_post') }} as p
inner join {{ source('ops', 'load_run') }} as l on l.load_id = p._load_id
left join accounts as a on a.platform = p.platform and a.handle_key = lower(ltrim(p.author_handle, '@'))
-- a held load (its posts not enriched yet, see migration 0012) reaches builds once it has a commit_seq
where l.commit_seq is not null
