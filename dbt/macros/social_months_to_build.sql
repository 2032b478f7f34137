{#- The months a social aggregate rebuilds, with the newest load commit of their posts. A full build: every
    month. An incremental one: the months of the posts refolded since the aggregate's own newest last_commit_seq,
    both the month they are in now and the month they were in before, read from the published fct_social_post
    (publish.build keeps the build schema equal to it): a newer observation can move a post to another month,
    and change its project, kind or author, so both months are recomputed from all their posts. The month a post
    left gets that post's commit, so that publish.catch_up copies it. Aggregates are incremental on `month`
    (delete+insert); a month left without posts is deleted by social_delete_emptied_months.
    `posts`: fct_social_post, or a model with the same post_key, posted_month and last_commit_seq. -#}
{% macro social_months_to_build(posts=none) -%}
    {%- set posts = posts if posts is not none else ref('fct_social_post') -%}
    {%- if is_incremental() %}
    with changed as materialized (
        select post_key, posted_month, last_commit_seq from {{ posts }}
        where {{ committed_after_this() }}
    )

    select month, max(last_commit_seq) as last_commit_seq
    from (
        select posted_month as month, last_commit_seq from changed
        {%- set published = social_published_posts() %}
        {%- if published is not none %}
        union all
        select p.posted_month, c.last_commit_seq
        from {{ published }} as p
        inner join changed as c on c.post_key = p.post_key
        {%- endif %}
    ) as touched
    group by month
    {%- else %}
    select posted_month as month, max(last_commit_seq) as last_commit_seq
    from {{ posts }}
    group by posted_month
    {%- endif %}
{%- endmacro %}


{#- The published marts.fct_social_post: the posts as the last publish left them (None when there is none, or
    when this build writes into `marts` itself, where it would be the table being rebuilt). -#}
{% macro social_published_posts() -%}
    {%- if execute and env_var('CSTRACK_MARTS_SCHEMA', 'marts') != 'marts' -%}
        {{ return(adapter.get_relation(database=target.database, schema='marts', identifier='fct_social_post')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{#- Pre-hook of the models built with social_months_to_build: in an incremental build, the rows of the months it
    rebuilds that no post is in any more (their posts moved to another month) are deleted; delete+insert only
    replaces the months that still have rows. -#}
{% macro social_delete_emptied_months(posts=none) -%}
    {%- set posts = posts if posts is not none else ref('fct_social_post') -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where month in (
        select m.month from ({{ social_months_to_build(posts) }}) as m
        where not exists (select from {{ posts }} as p where p.posted_month = m.month)
    )
    {%- endif -%}
{%- endmacro %}


{#- A filter on `column` (a posted_month) to the months an incremental build rebuilds, as literal dates read at
    compile time: with the months in the SQL, PostgreSQL reads only their posts through the posted_month index,
    where a join to the months CTE (whose size it cannot know) reads every post. `true` in a full build. -#}
{% macro social_months_filter(column, posts=none) -%}
    {%- if execute and is_incremental() -%}
        {{ in_values_of(column, 'select month from (' ~ social_months_to_build(posts) ~ ') as m', 'date') }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- agg_social_author_reach's author_key: the first 64 bits of a keyed-hash pseudonym, as a bigint. -#}
{% macro social_author_key(pseudonym) -%}
    ('x' || left({{ pseudonym }}, 16))::bit(64)::bigint
{%- endmacro %}


{#- The pseudonyms of the authors of the posts refolded since the newest last_commit_seq of {{ this }}, and of
    the authors these posts had in the published fct_social_post (a newer observation can name another author). -#}
{% macro social_changed_authors() -%}
    with changed as materialized (
        select post_key, author_pseudonym from {{ ref('fct_social_post') }}
        where {{ committed_after_this() }}
    )

    select author_pseudonym from changed
    {%- set published = social_published_posts() %}
    {%- if published is not none %}
    union
    select p.author_pseudonym
    from {{ published }} as p
    inner join changed as c on c.post_key = p.post_key
    {%- endif %}
{%- endmacro %}


{#- A filter on `column` (a pseudonym) to the changed authors, as literals read at compile time (as
    social_months_filter does for months): PostgreSQL then reads their rows through the author_pseudonym index. -#}
{% macro social_changed_authors_filter(column) -%}
    {{ in_values_of(column, social_changed_authors()) }}
{%- endmacro %}


{#- Pre-hook of agg_social_author_reach: in an incremental build, the rows of the changed authors are deleted
    first; delete+insert then inserts the rows of those who still have posts (an author left without posts
    keeps none). -#}
{% macro social_reach_delete_changed_authors() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where author_key = any(array(
        select {{ social_author_key('a.author_pseudonym') }} from ({{ social_changed_authors() }}) as a
    ))
    {%- endif -%}
{%- endmacro %}


{#- `last_commit_seq` above the newest one {{ this }} holds, as a bounded range: PostgreSQL cannot see a value read
    at run time and takes an open `>` for a third of the table (a full scan); a range with a constant end is
    estimated at a few rows and read through the last_commit_seq index. (Python: constants.committed_after.) -#}
{% macro committed_after_this() -%}
    last_commit_seq > (select coalesce(max(last_commit_seq), 0) from {{ this }})
    and last_commit_seq < 9223372036854775807
{%- endmacro %}


{#- `column in (...)` with the values of the one-column `query`, read when dbt compiles the model: PostgreSQL then
    knows how many there are and reads them through an index. `type`: a SQL type written before each literal. -#}
{% macro in_values_of(column, query, type='') -%}
    {%- set values = run_query('select * from (' ~ query ~ ') as q order by 1') if execute else none -%}
    {{ column }} in ({% for row in (values.rows if values else []) %}{{ type ~ ' ' if type }}'{{ row[0] | string | replace("'", "''") }}'{{ ', ' if not loop.last }}{% else %}null{% endfor %})
{%- endmacro %}
