-- The rep scores of the latest scoring run only (the run with the greatest scored_at;
-- ties broken by the greater score_run_id), with the top 3 drivers as text.
with latest_run as (
    select score_run_id, scored_at
    from (
        select
            score_run_id,
            scored_at,
            row_number() over (order by scored_at desc, score_run_id desc) as run_order
        from {{ ref('stg_ml__score_runs') }}
    ) as runs
    where run_order = 1
),

drivers as (
    select
        score_run_id,
        month_end,
        employee_key,
        max(case when driver_rank = 1 then driver end) as driver_1,
        max(case when driver_rank = 2 then driver end) as driver_2,
        max(case when driver_rank = 3 then driver end) as driver_3
    from {{ ref('stg_ml__rep_risk_drivers') }}
    group by score_run_id, month_end, employee_key
)

select
    scores.score_run_id,
    scores.model_run_id,
    latest_run.scored_at,
    scores.month_end,
    scores.employee_key,
    scores.team,
    scores.probability,
    scores.band,
    scores.previous_probability,
    scores.previous_band,
    scores.probability_change,
    scores.band_change,
    drivers.driver_1,
    drivers.driver_2,
    drivers.driver_3,
    scores.accounts,
    scores.book_revenue_12m,
    scores.revenue_lost_if_leaves,
    scores.revenue_at_risk,
    scores.horizon_months,
    scores.probability_1m,
    scores.probability_3m,
    scores.probability_6m,
    scores.probability_12m
from {{ ref('stg_ml__rep_attrition_scores') }} as scores
inner join latest_run
    on scores.score_run_id = latest_run.score_run_id
left join drivers
    on scores.score_run_id = drivers.score_run_id
    and scores.month_end = drivers.month_end
    and scores.employee_key = drivers.employee_key
