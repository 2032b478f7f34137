{#- The months a social aggregate rebuilds, with the newest load commit of their posts: every month in a
    full build; in an incremental one, the months of the posts that fct_social_post refolded since the
    aggregate's own newest last_commit_seq. Aggregates are incremental on `month` (delete+insert). -#}
{% macro social_months_to_build() -%}
    select posted_month as month, max(last_commit_seq) as last_commit_seq
    from {{ ref('fct_social_post') }}
    {% if is_incremental() -%}
    where posted_month in (
        select posted_month from {{ ref('fct_social_post') }}
        where last_commit_seq > (select coalesce(max(last_commit_seq), 0) from {{ this }})
    )
    {%- endif %}
    group by posted_month
{%- endmacro %}
