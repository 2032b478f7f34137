-- Source records with vocabularies applied (PPSR status, dates, extent) and the keys entity resolution
-- matches on: the normalised URL and the normalised title.
-- Project years outside 1600 .. next year + 10 are typos or placeholders (1500, 2999), not history: the
-- year (and its date) is nulled, the reason kept in date_rejected_reason and the source's text in
-- start_date_raw / end_date_raw; the project still publishes. quality_suites.py uses the same bounds.
with records as (
    select
        *,
        case when start_date_raw ~ '^\d{4}' then left(start_date_raw, 4)::int end as start_year_given,
        case when end_date_raw ~ '^\d{4}' then left(end_date_raw, 4)::int end as end_year_given,
        extract(year from current_date)::int + 11 as max_year
    from {{ ref('stg_catalogue__records') }}
),

status_alias as (
    select {{ normalise_key('alias') }} as alias_key, status from {{ ref('ppsr_status_alias') }}
)

select
    md5(r.source_system || '|' || r.source_record_id) as record_key,
    r.source_system,
    r.source_kind,
    r.source_record_id,
    r.load_id,
    r.loaded_at,
    r.title,
    r.aim,
    r.description,
    r.url,
    {{ normalise_url('r.url') }} as url_key,
    -- letters and digits only, single-spaced, lower case:
    -- "The Great-Backyard  Bird Count!" -> "the great backyard bird count"
    btrim(regexp_replace(lower(r.title), '[^[:alnum:]]+', ' ', 'g')) as title_key,
    s.status,
    r.status_raw,
    case
        when r.start_date_raw ~ '^\d{4}-\d{2}-\d{2}$' and r.start_year_given between 1600 and r.max_year
            then r.start_date_raw::date
    end as start_date,
    case when r.start_year_given between 1600 and r.max_year then r.start_year_given end as start_year,
    case when r.end_year_given between 1600 and r.max_year then r.end_year_given end as end_year,
    r.start_date_raw,
    r.end_date_raw,
    nullif(concat_ws('; ',
        case when r.start_year_given not between 1600 and r.max_year
            then format('start year %s outside 1600..%s', r.start_year_given, r.max_year) end,
        case when r.end_year_given not between 1600 and r.max_year
            then format('end year %s outside 1600..%s', r.end_year_given, r.max_year) end
    ), '') as date_rejected_reason,
    case
        when r.geographic_extent_raw in (select extent from {{ ref('ppsr_geographic_extent') }})
            then r.geographic_extent_raw
    end as geographic_extent,
    r.lead_organisation,
    r.organisation_type,
    r.funding,
    -- data practices, as the loader parsed them (parse: url, data_access, licence, bool); other values are nulls
    r.data_url,
    case when r.data_access in (select data_access from {{ ref('data_access') }}) then r.data_access end as data_access,
    case when r.data_licence in (select spdx_id from {{ ref('licence') }}) then r.data_licence end as data_licence,
    case r.reusable_for_research_raw when 'true' then true when 'false' then false end as reusable_for_research,
    case when r.language ~ '^[a-z]{2}$' then r.language end as source_language,
    case
        when r.latitude_raw ~ '^-?\d+(\.\d+)?$' and abs(r.latitude_raw::numeric) <= 90 then r.latitude_raw::numeric
    end as latitude,
    case
        when r.longitude_raw ~ '^-?\d+(\.\d+)?$' and abs(r.longitude_raw::numeric) <= 180 then r.longitude_raw::numeric
    end as longitude,
    {{ jsonb_text_array('r.countries_json') }} as countries,
    {{ jsonb_text_array('r.topics_json') }} as topics,
    case when jsonb_typeof(r.sdgs_json) = 'array' then r.sdgs_json else '[]'::jsonb end as sdg_labels,
    {{ jsonb_text_array('r.participation_tasks_json') }} as participation_tasks,
    {{ jsonb_text_array('r.keywords_json') }} as keywords
from records as r
left join status_alias as s on {{ normalise_key('r.status_raw') }} = s.alias_key
