-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['country_code', 'project_key']}, {'columns': ['project_key']}]) }}
-- Countries where a project takes place, from all its source records, as ISO 3166-1 alpha-2 codes;
-- scope words such as 'global' are not countries.
select distinct
    k.project_key,
    c.country_code,
    c.country_name
from {{ ref('int_catalogue__records') }} as r
inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = r.record_key
cross join lateral unnest(r.countries) as code
inner join {{ ref('country') }} as c on c.country_code = upper(code)
