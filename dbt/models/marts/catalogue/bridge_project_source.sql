-- indexes serve the dashboard filters (country, SDG, period) and the joins on project_key
{{ config(indexes=[{'columns': ['project_key']}]) }}
-- Every current source record exactly once, with the project it was resolved into and how.
select
    k.project_key,
    r.source_system,
    r.source_kind,
    r.source_record_id,
    k.match_rule,
    r.load_id
from {{ ref('int_catalogue__records') }} as r
inner join {{ ref('int_catalogue__project_keys') }} as k on k.record_key = r.record_key
