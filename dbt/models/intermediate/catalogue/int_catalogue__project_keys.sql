{{ config(materialized='table') }}
-- Entity resolution: source records that describe the same project get one project_key.
-- Two records from different sources match when
--   * their normalised URLs are equal (a URL that one source gives to several of its records is a
--     platform or programme page, not a project's, and matches nothing; placeholders are no URL), or
--   * they share a country and their normalised titles are near-identical (trigram Jaccard >= 0.75,
--     titles of at least 8 characters).
-- A source never lists one project twice, so records of the same source never merge directly.
-- Matches are transitive: a project is a connected component of the match graph, keyed by the
-- smallest record key in it. Every record appears exactly once, with the rule that attached it.
{% set title_similarity = 0.75 %}
with recursive records as (
    select record_key, source_system, url_key, title_key, countries
    from {{ ref('int_catalogue__records') }}
),

url_keys as (
    select r.record_key, r.source_system, r.url_key
    from records as r
    where r.url_key is not null
        and not exists (
            select 1 from records as o
            where o.source_system = r.source_system and o.url_key = r.url_key and o.record_key <> r.record_key
        )
),

url_matches as (
    select a.record_key as a, b.record_key as b, 'url' as rule
    from url_keys as a
    inner join url_keys as b
        on a.url_key = b.url_key and a.source_system <> b.source_system and a.record_key < b.record_key
),

titled as (
    select distinct r.record_key, r.source_system, upper(c.code) as country_code, '  ' || r.title_key || ' ' as padded
    from records as r
    cross join lateral unnest(r.countries) as c (code)
    where length(r.title_key) >= 8 and c.code ~ '^[A-Za-z]{2}$'
),

trigrams as (
    select distinct t.record_key, t.source_system, t.country_code, substr(t.padded, i, 3) as trigram
    from titled as t
    cross join lateral generate_series(1, length(t.padded) - 2) as i
),

trigram_counts as (
    select record_key, country_code, count(*) as n from trigrams group by 1, 2
),

shared as (
    select a.record_key as a, b.record_key as b, a.country_code, count(*) as n_shared
    from trigrams as a
    inner join trigrams as b
        on a.trigram = b.trigram and a.country_code = b.country_code
        and a.source_system <> b.source_system and a.record_key < b.record_key
    group by 1, 2, 3
),

title_matches as (
    select distinct s.a, s.b, 'title' as rule
    from shared as s
    inner join trigram_counts as ca on ca.record_key = s.a and ca.country_code = s.country_code
    inner join trigram_counts as cb on cb.record_key = s.b and cb.country_code = s.country_code
    where s.n_shared::numeric / (ca.n + cb.n - s.n_shared) >= {{ title_similarity }}
),

matches as (
    select a, b, rule from url_matches
    union
    select a, b, rule from title_matches
),

edges as (
    select a as node, b as neighbour from matches
    union
    select b, a from matches
),

reachable (node, reached) as (
    select record_key, record_key from records
    union
    select r.node, e.neighbour
    from reachable as r
    inner join edges as e on e.node = r.reached
),

components as (
    select node as record_key, min(reached) as project_key
    from reachable
    group by 1
)

select
    c.record_key,
    c.project_key,
    case
        when exists (
            select 1 from matches as m where (m.a = c.record_key or m.b = c.record_key) and m.rule = 'url'
        ) then 'url'
        when exists (select 1 from matches as m where m.a = c.record_key or m.b = c.record_key) then 'title'
        else 'single'
    end as match_rule
from components as c
