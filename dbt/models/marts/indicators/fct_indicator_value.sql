-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['indicator_code', 'geography']}]) }}
-- Every indicator value of every domain, one row per indicator, period, geography and dimension value.
-- A domain adds its values through an ephemeral model int_<domain>__indicator_values with these columns.
{% set domains = [
    'int_catalogue__indicator_values', 'int_catalogue__fair_indicator_values',
    'int_survey__indicator_values', 'int_social__indicator_values',
] %}
{% for model in domains %}
select
    indicator_code::text as indicator_code,
    period::text as period,
    case when lower(geography) = 'all' then 'ALL' else upper(geography) end::text as geography,
    dimension::text as dimension,
    dimension_value::text as dimension_value,
    value::numeric as value,
    numerator::numeric as numerator,
    denominator::numeric as denominator,
    n::int as n,
    suppressed::boolean as suppressed
from {{ ref(model) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
