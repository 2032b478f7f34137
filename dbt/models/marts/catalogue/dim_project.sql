select
    project_key,
    title,
    aim,
    description,
    url,
    status,
    start_date,
    start_year,
    end_year,
    geographic_extent,
    lead_organisation,
    cardinality(countries) as n_countries,
    source_system,
    loaded_at
from {{ ref('int_catalogue__records') }}
