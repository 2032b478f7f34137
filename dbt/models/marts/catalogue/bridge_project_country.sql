-- Countries as ISO 3166-1 alpha-2 codes; scope words such as 'global' are not countries.
select distinct
    r.project_key,
    c.country_code,
    c.country_name
from {{ ref('int_catalogue__records') }} as r
cross join lateral unnest(r.countries) as code
inner join {{ ref('country') }} as c on c.country_code = upper(code)
