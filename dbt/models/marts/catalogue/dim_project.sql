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
        max(loaded_at) as loaded_at
    from records
    group by project_key
),

countries as (
    select r.project_key, count(distinct lower(c.code)) as n_countries
    from records as r
    cross join lateral unnest(r.countries) as c (code)
    group by r.project_key
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
    s.loaded_at
from best as b
inner join summary as s on s.project_key = b.project_key
left join countries as c on c.project_key = b.project_key
