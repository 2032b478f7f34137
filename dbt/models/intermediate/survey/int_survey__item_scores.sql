{{ config(materialized='table', post_hook='analyze {{ this }}') }}
-- a table with fresh statistics: the reliability and segment models read it several times (self-joins)
-- Every item of every respondent, scored: reverse-coded items flipped on their scale (min + max - x).
-- Unanswered items (and quarantined out-of-scale answers) have a null score.
select
    r.survey,
    r.wave,
    r.respondent_key,
    i.item,
    i.construct,
    i.construct_label,
    i.min_share_answered,
    i.reverse,
    a.value,
    case when i.reverse then i.scale_min + i.scale_max - a.value else a.value end as score
from {{ ref('int_survey__respondents') }} as r
inner join {{ ref('stg_survey__items') }} as i on i.load_id = r.load_id
left join {{ ref('stg_survey__answers') }} as a
    on a.load_id = r.load_id and a.respondent_key = r.respondent_key and a.item = i.item
