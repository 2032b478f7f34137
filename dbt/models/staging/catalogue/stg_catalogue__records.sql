-- One row per record of the latest successful load of each catalogue source and each crawled platform:
-- an export (or one extraction of a platform's pages) is a snapshot of its source, so older loads are
-- history, not current records.
with latest_load as (
    select distinct on (source_system)
        load_id,
        source_kind,
        source_system,
        finished_at
    from {{ source('ops', 'load_run') }}
    where source_kind in ('catalogue', 'crawl') and status = 'succeeded'
    order by source_system asc, load_id desc
)

select
    r.source_system,
    l.source_kind,
    r.source_record_id,
    r._load_id as load_id,
    l.finished_at as loaded_at,
    nullif(btrim(r.record ->> 'title'), '') as title,
    nullif(btrim(r.record ->> 'aim'), '') as aim,
    nullif(btrim(r.record ->> 'description'), '') as description,
    nullif(btrim(r.record ->> 'url'), '') as url,
    r.record ->> 'status' as status_raw,
    r.record ->> 'start_date' as start_date_raw,
    r.record ->> 'end_date' as end_date_raw,
    r.record ->> 'geographic_extent' as geographic_extent_raw,
    r.record ->> 'lead_organisation' as lead_organisation,
    r.record ->> 'organisation_type' as organisation_type,
    r.record ->> 'language' as language,
    r.record ->> 'latitude' as latitude_raw,
    r.record ->> 'longitude' as longitude_raw,
    r.record ->> 'funding' as funding,
    nullif(btrim(r.record ->> 'data_url'), '') as data_url,
    r.record ->> 'data_access' as data_access,
    r.record ->> 'data_licence' as data_licence,
    r.record ->> 'reusable_for_research' as reusable_for_research_raw,
    r.record -> 'countries' as countries_json,
    r.record -> 'topics' as topics_json,
    r.record -> 'sdgs' as sdgs_json,
    r.record -> 'keywords' as keywords_json,
    r.record -> 'participation_tasks' as participation_tasks_json
from {{ source('raw', 'catalogue_record') }} as r
inner join latest_load as l on r._load_id = l.load_id
