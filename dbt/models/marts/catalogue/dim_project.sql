-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['start_year']}]) }}
-- One row per resolved project. Its attributes come from its most complete source record; counts and
-- dates summarise all of them.
with records as (
    select r.*, k.project_key, l.language
    from {{ ref('int_catalogue__records') }} as r
    inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = r.record_key
    inner join {{ ref('int_catalogue__record_language') }} as l on l.record_key = r.record_key
),

best as (
    select distinct on (project_key) *
    from records
    order by
        project_key asc,
        (aim is not null)::int + (description is not null)::int + (url is not null)::int + (status is not null)::int
        + (start_year is not null)::int + (lead_organisation is not null)::int desc,
        record_key
),

summary as (
    select
        project_key,
        count(*) as n_sources,
        string_agg(distinct source_system, ', ' order by source_system) as platforms,
        max(loaded_at) as loaded_at,
        -- data practices over all its sources: any data URL, the most open access, any licence, any yes
        min(data_url) as data_url,
        (array_agg(records.data_access order by a.openness) filter (where records.data_access is not null))[1]
            as data_access,
        min(data_licence) as data_licence,
        bool_or(reusable_for_research) as reusable_for_research
    from records
    left join {{ ref('data_access') }} as a on a.data_access = records.data_access
    group by project_key
),

countries as (
    select r.project_key, count(distinct lower(c.code)) as n_countries
    from records as r
    cross join lateral unnest(r.countries) as c (code)
    group by r.project_key
),

tags as (  -- controlled-vocabulary tags, for the interoperability rule and the completeness score
    select k.project_key, count(distinct t.topic) as n_topics, 0 as n_sdgs
    from {{ ref('int_catalogue__topic_tags') }} as t
    inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = t.record_key
    group by k.project_key
    union all
    select k.project_key, 0, count(distinct g.sdg)
    from {{ ref('int_catalogue__sdg_tags') }} as g
    inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = g.record_key
    group by k.project_key
),

tag_counts as (
    select project_key, sum(n_topics) as n_topics, sum(n_sdgs) as n_sdgs
    from tags
    group by project_key
)

select
    b.project_key,
    b.title,
    b.aim,
    b.description,
    b.url,
    b.status,
    b.start_date,
    b.start_year,
    b.end_year,
    b.date_rejected_reason,
    b.geographic_extent,
    b.lead_organisation,
    b.organisation_type,
    b.language,
    b.latitude,
    b.longitude,
    coalesce(c.n_countries, 0)::int as n_countries,
    s.n_sources::int as n_sources,
    s.platforms,
    b.source_system,
    s.loaded_at,
    s.data_url,
    s.data_access,
    s.reusable_for_research,
    s.data_licence,
    {{ metadata_completeness('b.title', 'b.aim', 'b.description', 'b.status', 'b.start_year', 'c.n_countries',
        'b.latitude', 'b.language', 't.n_topics', 'b.lead_organisation') }} as metadata_completeness,
    {{ fair_findable('b.url', 'b.title', 'b.description') }} as fair_findable,
    {{ fair_accessible('s.data_url', 's.data_access') }} as fair_accessible,
    {{ fair_interoperable('b.language', 'c.n_countries', 't.n_sdgs', 't.n_topics') }} as fair_interoperable,
    {{ fair_reusable('lic.open', 's.reusable_for_research') }} as fair_reusable
from best as b
inner join summary as s on s.project_key = b.project_key
left join countries as c on c.project_key = b.project_key
left join tag_counts as t on t.project_key = b.project_key
left join {{ ref('licence') }} as lic on lic.spdx_id = s.data_licence
