{{ config(materialized='ephemeral') }}
-- Landscape indicators (definitions in the seed indicator_catalogue). Ephemeral: it reads the candidate
-- marts, and a view over them would be dropped with the previous marts at each publish.
with projects as (
    select count(*) as total from {{ ref('dim_project') }}
),

by_dimension as (
    select 'LAND_PROJECTS' as indicator_code, 'all' as dimension, 'all' as dimension_value, 'ALL' as geography,
        count(*) as n
    from {{ ref('dim_project') }}
    union all
    select 'LAND_PROJECTS_BY_COUNTRY', 'country', country_code, country_code, count(distinct project_key)
    from {{ ref('bridge_project_country') }} group by country_code
    union all
    select 'LAND_PROJECTS_BY_SDG', 'sdg', sdg::text, 'ALL', count(distinct project_key)
    from {{ ref('bridge_project_sdg') }} group by sdg
    union all
    select 'LAND_PROJECTS_BY_TOPIC', 'topic', topic, 'ALL', count(distinct project_key)
    from {{ ref('bridge_project_topic') }} group by topic
    union all
    select 'LAND_PROJECTS_BY_STATUS', 'status', coalesce(status, 'not given'), 'ALL', count(*)
    from {{ ref('dim_project') }} group by status
    union all
    select 'LAND_PROJECTS_BY_PLATFORM', 'source_system', source_system, 'ALL', count(distinct project_key)
    from {{ ref('bridge_project_source') }} group by source_system
)

select
    d.indicator_code,
    'current' as period,
    d.geography,
    d.dimension,
    d.dimension_value,
    d.n::numeric as value,
    d.n::numeric as numerator,
    p.total::numeric as denominator,
    d.n::int as n,
    false as suppressed
from by_dimension as d
cross join projects as p

union all

select
    'LAND_PROJECTS_BY_START_YEAR',
    start_year::text,
    'ALL',
    'start_year',
    start_year::text,
    count(*)::numeric,
    count(*)::numeric,
    null::numeric,
    count(*)::int,
    false
from {{ ref('dim_project') }}
where start_year is not null
group by start_year
