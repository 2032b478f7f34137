-- The indicator catalogue: what each indicator in fct_indicator_value means and how it is computed.
select
    indicator_code,
    domain,
    name,
    description,
    unit,
    formula,
    sources
from {{ ref('indicator_catalogue') }}
