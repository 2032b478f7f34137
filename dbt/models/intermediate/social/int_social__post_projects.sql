-- Which catalogued projects a post is about, and how we know (best first):
--   account  the author is the project's account (seed project_social_account),
--   url      a link in the post is the project's URL (both normalised with normalise_url),
--   mention  the post mentions the project's account,
--   hashtag  the post carries the project's hashtag (NFKC, case-folded, like the loader's hashtags).
-- A URL that several projects share (a platform's home page) links nothing. One row per post and project.
{{ config(
    materialized='incremental', unique_key='post_key', incremental_strategy='delete+insert',
    indexes=[{'columns': ['post_key']}, {'columns': ['last_commit_seq']}],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where post_key in (select post_key from {{ ref('int_social__posts') }} where {{ committed_after_this() }}){% endif %}",
) }}
-- Incremental: the posts refolded since the last build (int_social__posts.last_commit_seq) get their links
-- again; their old links are deleted first (pre-hook), since delete+insert replaces only the posts that still
-- have a link and a newer observation may have lost one. A catalogue load makes publish.build rebuild
-- everything, since any link may change then.
with posts as (
    select post_key, platform, author_project_handle, mentioned_project_handles, hashtags, urls, last_commit_seq
    from {{ ref('int_social__posts') }}
    {% if is_incremental() %}
    where {{ committed_after_this() }}
    {% endif %}
),

project_urls as (
    select r.url_key, min(k.project_key) as project_key
    from {{ ref('int_catalogue__records') }} as r
    inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = r.record_key
    where r.url_key is not null
    group by r.url_key
    having count(distinct k.project_key) = 1
),

accounts as (
    select
        lower(a.platform) as platform,
        a.handle,
        lower(normalize(ltrim(btrim(a.hashtag), '#'), NFKC)) as hashtag_key,
        u.project_key
    from {{ ref('project_social_account') }} as a
    inner join project_urls as u on u.url_key = {{ normalise_url('a.project_url') }}
),

-- normalise_url is costly (regexes and subqueries): only the links whose host is a project's are normalised
project_hosts as (
    select distinct split_part(split_part(url_key, '?', 1), '/', 1) as host from project_urls
),

post_urls_on_project_hosts as materialized (
    select p.post_key, l.url
    from posts as p
    cross join lateral unnest(p.urls) as l (url)
    inner join project_hosts as h on h.host = regexp_replace(
        split_part(
            split_part(split_part(lower(btrim(l.url)), '#', 1), '?', 1),
            '/',
            case when l.url like '%://%' then 3 else 1 end
        ),
        '^www[0-9]*\.', ''
    )
),

links as (
    select p.post_key, a.project_key, 1 as priority
    from posts as p
    inner join accounts as a on a.platform = p.platform and a.handle = p.author_project_handle
    union all
    select c.post_key, u.project_key, 2
    from post_urls_on_project_hosts as c
    inner join project_urls as u on u.url_key = {{ normalise_url('c.url') }}
    union all
    select p.post_key, a.project_key, 3
    from posts as p
    cross join lateral unnest(p.mentioned_project_handles) as m (handle)
    inner join accounts as a on a.platform = p.platform and a.handle = m.handle
    union all
    select p.post_key, a.project_key, 4
    from posts as p
    cross join lateral unnest(p.hashtags) as t (hashtag)
    inner join accounts as a on a.hashtag_key = t.hashtag
)

select
    l.post_key,
    l.project_key,
    (array['account', 'url', 'mention', 'hashtag'])[min(l.priority)] as link_method,
    min(l.priority) as priority,
    min(p.last_commit_seq) as last_commit_seq
from links as l
inner join posts as p on p.post_key = l.post_key
group by l.post_key, l.project_key
