{{ config(
    materialized='table',
    indexes=[{'columns': ['project_key']}, {'columns': ['last_month']}],
) }}
-- Each pseudonymous author's last month of posting per linked project (project_key null: posts linked to
-- none): the exact number of distinct authors for any project, country or SDG filter and a period that is a
-- lower bound on the month ("posted in month >= X" is "last month >= X"), in one pass over far fewer rows
-- than agg_social_authors_monthly and on 64-bit keys instead of text. author_key is the first 64 bits of the
-- keyed-hash pseudonym; the marts gate checks that no two pseudonyms share one, so the count stays exact.
select
    project_key,
    ('x' || left(author_pseudonym, 16))::bit(64)::bigint as author_key,
    max(month) as last_month,
    sum(posts)::int as posts,
    max(last_commit_seq) as last_commit_seq
from {{ ref('agg_social_authors_monthly') }}
group by project_key, author_pseudonym
