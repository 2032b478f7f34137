-- Internal consistency per survey, wave and construct, over listwise complete cases (respondents who
-- answered every item of the construct), items scored (reverse-coded ones flipped):
--   cronbach_alpha     = k/(k-1) * (1 - sum of item variances / variance of the total), sample variances
--   cronbach_alpha_std = k * r / (1 + (k-1) * r), r = mean Pearson correlation over the k(k-1)/2 item pairs
-- mean_score and sd_score (sample SD) are over respondents with a construct score.
with items as (
    select survey, wave, construct, respondent_key, item, score
    from {{ ref('int_survey__item_scores') }}
),

n_items as (
    select survey, wave, construct, count(distinct item)::integer as k
    from items
    group by survey, wave, construct
),

complete_items as (
    -- windows rather than a join with n_items and a grouped "having": the planner then estimates the
    -- rows well enough to hash the self-join in mean_correlation (it had estimated 1 row: nested loops,
    -- 27 s for 591 respondents). item_scores holds every item of every respondent, null when unanswered.
    select survey, wave, construct, respondent_key, item, score
    from (
        select
            *,
            count(*) over respondent_construct as k,
            count(score) over respondent_construct as answered
        from items
        window respondent_construct as (partition by survey, wave, construct, respondent_key)
    ) as counted
    where answered = k
),

item_variance as (
    select survey, wave, construct, sum(item_var) as sum_item_var
    from (
        select survey, wave, construct, item, var_samp(score) as item_var
        from complete_items
        group by survey, wave, construct, item
    ) as v
    group by survey, wave, construct
),

total_variance as (
    select survey, wave, construct, count(*)::integer as n_complete, var_samp(total) as total_var
    from (
        select survey, wave, construct, respondent_key, sum(score) as total
        from complete_items
        group by survey, wave, construct, respondent_key
    ) as t
    group by survey, wave, construct
),

mean_correlation as (
    select survey, wave, construct, avg(r)::numeric as r_bar
    from (
        select a.survey, a.wave, a.construct, a.item, b.item as item_b, corr(a.score, b.score) as r
        from complete_items as a
        inner join complete_items as b
            on a.survey = b.survey and a.wave = b.wave and a.construct = b.construct
            and a.respondent_key = b.respondent_key and a.item < b.item
        group by a.survey, a.wave, a.construct, a.item, b.item
    ) as pairs
    group by survey, wave, construct
),

scores as (
    select
        survey,
        wave,
        construct,
        max(construct_label) as construct_label,
        count(score)::integer as n_scored,
        avg(score) as mean_score,
        stddev_samp(score) as sd_score
    from {{ ref('int_survey__construct_scores') }}
    group by survey, wave, construct
)

select
    s.survey,
    s.wave,
    s.construct,
    s.construct_label,
    n.k as n_items,
    coalesce(t.n_complete, 0) as n_complete,
    case when n.k > 1 and t.n_complete > 1 and t.total_var > 0
        then n.k::numeric / (n.k - 1) * (1 - v.sum_item_var / t.total_var)
    end as cronbach_alpha,
    case when n.k > 1 and 1 + (n.k - 1) * m.r_bar <> 0
        then n.k * m.r_bar / (1 + (n.k - 1) * m.r_bar)
    end as cronbach_alpha_std,
    s.n_scored,
    s.mean_score,
    s.sd_score
from scores as s
inner join n_items as n using (survey, wave, construct)
left join total_variance as t using (survey, wave, construct)
left join item_variance as v using (survey, wave, construct)
left join mean_correlation as m using (survey, wave, construct)
