-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['project_key']}]) }}
-- EU-Citizen.Science topics of each project: from its sources' categories, or inferred from its text.
select
    k.project_key,
    t.topic,
    max(t.origin) as origin  -- 'source' > 'inferred': inferred only when no record gives it as a category
from {{ ref('int_catalogue__topic_tags') }} as t
inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = t.record_key
group by 1, 2
