-- The items of the latest load of each codebook: an export holds every answer so far, so an older
-- load of the same codebook is history, not current answers.
with latest_load as (
    select codebook, max(_load_id) as load_id
    from {{ source('raw_survey', 'survey_item') }}
    group by codebook
)

select
    i._load_id as load_id,
    i.codebook,
    i.survey,
    i.wave,
    i.item,
    i.scale,
    i.scale_min,
    i.scale_max,
    i.reverse,
    i.construct,
    i.construct_label,
    i.min_share_answered
from {{ source('raw_survey', 'survey_item') }} as i
inner join latest_load as l on i._load_id = l.load_id
