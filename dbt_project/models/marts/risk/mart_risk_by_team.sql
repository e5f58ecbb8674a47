-- Attrition risk by team for the latest scoring run, plus an all-company row
-- (team 'All teams', is_company_total). Aggregates only: no names, no employee keys.
-- Teams with fewer than 5 scored reps are suppressed (def_small_team_suppression):
-- the row stays, every count and amount is null. The company row is computed from all
-- reps, suppressed teams included; when only one team is small, the next-smallest team is
-- suppressed too so the small one cannot be recovered by subtraction.
{%- set minimum_reps = 5 %}
with scores as (
    select * from {{ ref('int_latest_risk_scores') }}
),

by_team as (
    select team, false as is_company_total, scores.* from scores
    union all
    select 'All teams' as team, true as is_company_total, scores.* from scores
),

aggregated as (
    select
        by_team.team,
        is_company_total,
        max(month_end) as month_end,
        max(score_run_id) as score_run_id,
        count(*) as reps,
        {{ count_if("band = 'High'") }} as high_risk_reps,
        {{ count_if("band = 'Medium'") }} as medium_risk_reps,
        sum(probability) as expected_exits_3m,
        sum(revenue_at_risk) as revenue_at_risk,
        sum(book_revenue_12m) as book_revenue_12m
    from by_team
    group by by_team.team, is_company_total
),

small as (
    select
        aggregated.*,
        reps < {{ minimum_reps }} and not is_company_total as is_small,
        row_number() over (
            partition by is_company_total, reps < {{ minimum_reps }} order by reps, team
        ) as size_rank
    from aggregated
),

primary_suppressed as (
    select {{ count_if('is_small') }} as teams from small
),

-- Secondary suppression: with exactly one small team, "All teams" minus the others
-- would give its numbers away, so the next-smallest team is suppressed too.
flagged as (
    select
        small.*,
        small.is_small
        or (
            primary_suppressed.teams = 1
            and not small.is_company_total
            and not small.is_small
            and small.size_rank = 1
        ) as is_suppressed
    from small
    cross join primary_suppressed
)

select
    team,
    is_company_total,
    month_end,
    cast(case when not is_suppressed then reps end as bigint) as reps,
    cast(case when not is_suppressed then high_risk_reps end as bigint) as high_risk_reps,
    cast(case when not is_suppressed then medium_risk_reps end as bigint) as medium_risk_reps,
    cast(case when not is_suppressed then expected_exits_3m end as double) as expected_exits_3m,
    {{ money('case when not is_suppressed then revenue_at_risk end') }} as revenue_at_risk,
    {{ money('case when not is_suppressed then book_revenue_12m end') }} as book_revenue_12m,
    is_suppressed,
    score_run_id
from flagged
