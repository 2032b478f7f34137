-- Source records with their project key and vocabularies applied (PPSR status, dates, extent).
-- Entity resolution across sources comes later; for now each source record is its own project.
with records as (
    select * from {{ ref('stg_catalogue__records') }}
),

status_alias as (
    select {{ normalise_key('alias') }} as alias_key, status from {{ ref('ppsr_status_alias') }}
)

select
    md5(r.source_system || '|' || r.source_record_id) as project_key,
    r.source_system,
    r.source_record_id,
    r.load_id,
    r.loaded_at,
    r.title,
    r.aim,
    r.description,
    r.url,
    s.status,
    r.status_raw,
    case when r.start_date_raw ~ '^\d{4}-\d{2}-\d{2}$' then r.start_date_raw::date end as start_date,
    case when r.start_date_raw ~ '^\d{4}' then left(r.start_date_raw, 4)::int end as start_year,
    case when r.end_date_raw ~ '^\d{4}' then left(r.end_date_raw, 4)::int end as end_year,
    case
        when r.geographic_extent_raw in
            ('global', 'macro_regional', 'national', 'sub_national', 'regional', 'city', 'neighbourhood')
            then r.geographic_extent_raw
    end as geographic_extent,
    r.lead_organisation,
    {{ jsonb_text_array('r.countries_json') }} as countries,
    {{ jsonb_text_array('r.topics_json') }} as topics,
    {{ jsonb_text_array('r.participation_tasks_json') }} as participation_tasks,
    {{ jsonb_text_array('r.keywords_json') }} as keywords
from records as r
left join status_alias as s on {{ normalise_key('r.status_raw') }} = s.alias_key
