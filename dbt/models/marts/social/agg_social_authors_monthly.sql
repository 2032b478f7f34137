{{ config(
    materialized='incremental', unique_key='month', incremental_strategy='delete+insert', on_schema_change='fail',
    pre_hook="{{ social_delete_emptied_months() }}",
    indexes=[{'columns': ['month']}, {'columns': ['project_key']}, {'columns': ['author_pseudonym']}],
) }}
-- Which pseudonymous authors posted in a month, per linked project (null: posts linked to none): distinct
-- authors for any filter of project, country, SDG and period without scanning fct_social_post. Holds only
-- pseudonyms (keyed hashes), like fct_social_post. Incremental by month (macro social_months_to_build).
with months as (
    {{ social_months_to_build() }}
)

select
    f.posted_month as month,
    f.project_key,
    f.author_pseudonym,
    count(*)::int as posts,
    max(m.last_commit_seq) as last_commit_seq
from {{ ref('fct_social_post') }} as f
inner join months as m on m.month = f.posted_month
where {{ social_months_filter('f.posted_month') }}
group by f.posted_month, f.project_key, f.author_pseudonym
