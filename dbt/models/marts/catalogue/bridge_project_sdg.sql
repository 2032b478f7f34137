-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['sdg', 'project_key']}, {'columns': ['project_key']}]) }}
-- SDGs of each project with their relevance: direct or indirect as a source labels them, inferred from
-- the description otherwise; the strongest relevance when its records disagree.
select
    k.project_key,
    t.sdg,
    s.sdg_name,
    min(t.relevance) as relevance  -- direct < indirect < inferred
from {{ ref('int_catalogue__sdg_tags') }} as t
inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = t.record_key
inner join {{ ref('sdg') }} as s on s.sdg = t.sdg
group by 1, 2, 3
