-- RESTRICTED (HR flows only): one row per rep scored in the latest scoring run, with
-- name, manager, drivers, the revenue at risk and a suggested successor for the
-- accounts. Successor rule (def_successor_rule): among the other reps scored in the same
-- run on the same team, not in the High band and still employed, the one with the most
-- spare capacity = the team's median accounts - their accounts, if that is above 0;
-- ties go to the lower probability, then the lower employee_key. Null when nobody on the
-- team has spare capacity.
with scores as (
    select * from {{ ref('int_latest_risk_scores') }}
),

people as (
    select * from {{ ref('dim_people') }}
),

team_medians as (
    select
        team,
        {{ percentile('cast(coalesce(accounts, 0) as double)', 0.5) }} as median_accounts
    from scores
    group by team
),

candidates as (
    select
        scores.team,
        scores.employee_key,
        scores.probability,
        team_medians.median_accounts - coalesce(scores.accounts, 0) as spare_capacity
    from scores
    inner join team_medians
        on scores.team = team_medians.team
    inner join people
        on scores.employee_key = people.employee_key
    where scores.band in ('Low', 'Medium')
        and people.termination_date is null
        and team_medians.median_accounts - coalesce(scores.accounts, 0) > 0
),

successors as (
    select
        employee_key,
        successor_employee_key
    from (
        select
            scores.employee_key,
            candidates.employee_key as successor_employee_key,
            row_number() over (
                partition by scores.employee_key
                order by candidates.spare_capacity desc, candidates.probability asc, candidates.employee_key asc
            ) as successor_order
        from scores
        inner join candidates
            on scores.team = candidates.team
            and scores.employee_key <> candidates.employee_key
    ) as ranked
    where successor_order = 1
)

select
    scores.employee_key,
    people.employee_name,
    scores.team,
    people.manager_name,
    scores.month_end,
    scores.probability,
    scores.band,
    scores.previous_band,
    scores.band_change,
    scores.probability_change,
    scores.driver_1,
    scores.driver_2,
    scores.driver_3,
    scores.accounts,
    {{ money('scores.book_revenue_12m') }} as book_revenue_12m,
    {{ money('scores.revenue_at_risk') }} as revenue_at_risk,
    scores.horizon_months,
    scores.probability_1m,
    scores.probability_3m,
    scores.probability_6m,
    scores.probability_12m,
    successors.successor_employee_key as suggested_successor_employee_key,
    successor_people.employee_name as suggested_successor_name,
    scores.score_run_id
from scores
left join people
    on scores.employee_key = people.employee_key
left join successors
    on scores.employee_key = successors.employee_key
left join people as successor_people
    on successors.successor_employee_key = successor_people.employee_key
