{{ config(materialized='ephemeral') }}
-- Data-practice (FAIR) indicators of the catalogue (definitions in the seed indicator_catalogue): shares of
-- projects, overall, by country and by platform; a cell of fewer than 5 projects is suppressed. Ephemeral, as
-- int_catalogue__indicator_values: it reads the candidate marts.
with projects as (
    select
        p.project_key,
        p.metadata_completeness,
        (p.data_url is not null)::int as with_data_url,
        coalesce(p.data_access in ('download', 'view'), false)::int as open_access,
        (p.data_licence is not null)::int as licence_declared,
        coalesce(l.open, false)::int as open_licence,
        p.fair_findable::int as findable,
        p.fair_accessible::int as accessible,
        p.fair_interoperable::int as interoperable,
        p.fair_reusable::int as reusable
    from {{ ref('dim_project') }} as p
    left join {{ ref('licence') }} as l on l.spdx_id = p.data_licence
),

platforms as (
    select distinct project_key, source_system from {{ ref('bridge_project_source') }}
),

cells as (
    select 'ALL' as geography, 'all' as dimension, 'all' as dimension_value, p.* from projects as p
    union all
    select c.country_code, 'country', c.country_code, p.*
    from projects as p
    inner join {{ ref('bridge_project_country') }} as c on c.project_key = p.project_key
    union all
    select 'ALL', 'source_system', s.source_system, p.*
    from projects as p
    inner join platforms as s on s.project_key = p.project_key
),

totals as (
    select
        geography,
        dimension,
        dimension_value,
        count(*) as n,
        avg(metadata_completeness) as completeness,
        sum(with_data_url) as with_data_url,
        sum(open_access) as open_access,
        sum(licence_declared) as licence_declared,
        sum(open_licence) as open_licence,
        sum(findable) as findable,
        sum(accessible) as accessible,
        sum(interoperable) as interoperable,
        sum(reusable) as reusable
    from cells
    group by geography, dimension, dimension_value
)

select
    m.indicator_code,
    'current' as period,
    t.geography,
    t.dimension,
    t.dimension_value,
    case
        when t.n < 5 then null
        when m.indicator_code = 'FAIR_METADATA_COMPLETENESS' then round(t.completeness, 4)
        else round(m.projects / t.n, 4)
    end as value,
    case when t.n >= 5 and m.indicator_code <> 'FAIR_METADATA_COMPLETENESS' then m.projects end as numerator,
    case when t.n >= 5 then t.n end as denominator,
    t.n::int as n,
    t.n < 5 as suppressed
from totals as t
cross join lateral (
    values
    ('FAIR_DATA_URL_SHARE', t.with_data_url::numeric),
    ('FAIR_OPEN_ACCESS_SHARE', t.open_access::numeric),
    ('FAIR_LICENCE_DECLARED_SHARE', t.licence_declared::numeric),
    ('FAIR_OPEN_LICENCE_SHARE', t.open_licence::numeric),
    ('FAIR_METADATA_COMPLETENESS', null::numeric),
    ('FAIR_FINDABLE_SHARE', t.findable::numeric),
    ('FAIR_ACCESSIBLE_SHARE', t.accessible::numeric),
    ('FAIR_INTEROPERABLE_SHARE', t.interoperable::numeric),
    ('FAIR_REUSABLE_SHARE', t.reusable::numeric)
) as m (indicator_code, projects)
