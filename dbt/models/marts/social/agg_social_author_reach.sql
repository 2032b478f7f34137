-- depends_on: {{ ref('fct_social_post') }}
{{ config(
    materialized='incremental', unique_key='author_key', incremental_strategy='delete+insert', on_schema_change='fail',
    pre_hook="{{ social_reach_delete_changed_authors() }}",
    indexes=[{'columns': ['project_key']}, {'columns': ['author_key']}, {'columns': ['last_commit_seq']}],
) }}
-- Each pseudonymous author's last month of posting: over all their posts (project_key null: one row per author)
-- and per linked project. The distinct-authors card counts the all-posts rows, narrowed by the project rows when
-- a project, country or SDG filter is set; a period filter is a first month, and "posted in month >= X" is
-- "last month >= X". Exact, and it reads one row per author instead of agg_social_authors_monthly's row per
-- month, project and author. author_key is the first 64 bits of the keyed-hash pseudonym; the marts gate checks
-- that no two pseudonyms share one. Incremental by author: the rows of the authors of the posts refolded since
-- the last build (and of the authors those posts had before) are recomputed from all their months.
with author_months as (
    select
        project_key,
        author_pseudonym,
        month,
        posts,
        last_commit_seq
    from {{ ref('agg_social_authors_monthly') }}
    where project_key is not null
    union all
    select
        null as project_key,
        author_pseudonym,
        month,
        posts,
        last_commit_seq
    from {{ ref('agg_social_authors_monthly') }}
)

select
    project_key,
    {{ social_author_key('author_pseudonym') }} as author_key,
    max(month) as last_month,
    sum(posts)::int as posts,
    {% if is_incremental() -%}
    -- a recomputed author gets the newest commit, so that publish.catch_up copies their rows: an author whose post
    -- moved to another author may keep only older months
    greatest(max(last_commit_seq), (select max(last_commit_seq) from {{ ref('fct_social_post') }})) as last_commit_seq
    {%- else -%}
    max(last_commit_seq) as last_commit_seq
    {%- endif %}
from author_months
{%- if is_incremental() %}
where {{ social_changed_authors_filter('author_pseudonym') }}
{%- endif %}
group by project_key, author_pseudonym
