-- Which catalogued projects a post is about, and how we know (best first):
--   account  the author is the project's account (seed project_social_account),
--   url      a link in the post is the project's URL (both normalised with normalise_url),
--   mention  the post mentions the project's account,
--   hashtag  the post carries the project's hashtag (NFKC, case-folded, like the loader's hashtags).
-- A URL that several projects share (a platform's home page) links nothing. One row per post and project.
with posts as (
    select post_key, platform, author_project_handle, mentioned_project_handles, hashtags, urls
    from {{ ref('int_social__posts') }}
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

links as (
    select p.post_key, a.project_key, 1 as priority
    from posts as p
    inner join accounts as a on a.platform = p.platform and a.handle = p.author_project_handle
    union all
    select p.post_key, u.project_key, 2
    from posts as p
    cross join lateral unnest(p.urls) as l (url)
    inner join project_urls as u on u.url_key = {{ normalise_url('l.url') }}
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
    post_key,
    project_key,
    (array['account', 'url', 'mention', 'hashtag'])[min(priority)] as link_method,
    min(priority) as priority
from links
group by post_key, project_key
