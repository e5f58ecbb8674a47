-- Attrition risk by team for the latest scoring run, plus an all-company row
-- (team 'All teams', is_company_total). Aggregates only: no names, no employee keys.
-- Teams with fewer than 5 scored reps are suppressed (def_small_team_suppression):
-- the row stays, every count and amount is null. The company row is computed from all
-- reps, suppressed teams included; see flagged below for the secondary suppression that
-- keeps a small team from being recovered by subtraction.
{%- set minimum_reps = 5 %}
with scores as (
    select * from {{ ref('int_latest_risk_scores') }}
),

by_team as (
    select
        scores.team as reporting_team, false as is_company_total, scores.score_run_id,
        scores.month_end, scores.band, scores.horizon_months, scores.probability,
        scores.probability_1m, scores.probability_3m,
        scores.probability_6m, scores.probability_12m, scores.revenue_at_risk,
        scores.book_revenue_12m
    from scores
    union all
    select
        'All teams' as reporting_team, true as is_company_total, scores.score_run_id,
        scores.month_end, scores.band, scores.horizon_months, scores.probability,
        scores.probability_1m, scores.probability_3m,
        scores.probability_6m, scores.probability_12m, scores.revenue_at_risk,
        scores.book_revenue_12m
    from scores
),

aggregated as (
    select
        by_team.reporting_team as team,
        is_company_total,
        max(month_end) as month_end,
        max(score_run_id) as score_run_id,
        count(*) as reps,
        {{ count_if("band = 'High'") }} as high_risk_reps,
        {{ count_if("band = 'Medium'") }} as medium_risk_reps,
        max(horizon_months) as horizon_months,
        sum(probability) as expected_exits,
        sum(probability_1m) as expected_exits_1m,
        sum(probability_3m) as expected_exits_3m,
        sum(probability_6m) as expected_exits_6m,
        sum(probability_12m) as expected_exits_12m,
        sum(revenue_at_risk) as revenue_at_risk,
        sum(book_revenue_12m) as book_revenue_12m
    from by_team
    group by by_team.reporting_team, is_company_total
),

ranked as (
    select
        aggregated.*,
        row_number() over (partition by is_company_total order by reps, team) as size_rank,
        coalesce(sum(reps) over (
            partition by is_company_total order by reps, team
            rows between unbounded preceding and 1 preceding
        ), 0) as smaller_teams_reps
    from aggregated
),

small_teams as (
    select {{ count_if('reps < ' ~ minimum_reps ~ ' and not is_company_total') }} as teams
    from ranked
),

-- Primary suppression: teams under 5 reps. Secondary: while any team is suppressed, keep
-- suppressing the next-smallest until at least 2 teams and 5 reps are hidden together,
-- so no small team can be recovered as "All teams" minus the visible ones.
flagged as (
    select
        ranked.*,
        case
            when ranked.is_company_total then ranked.reps < {{ minimum_reps }}
            when ranked.reps < {{ minimum_reps }} then true
            when small_teams.teams = 0 then false
            else ranked.size_rank <= 2 or ranked.smaller_teams_reps < {{ minimum_reps }}
        end as is_suppressed
    from ranked
    cross join small_teams
)

select
    team,
    is_company_total,
    month_end,
    cast(case when not is_suppressed then reps end as bigint) as reps,
    cast(case when not is_suppressed then high_risk_reps end as bigint) as high_risk_reps,
    cast(case when not is_suppressed then medium_risk_reps end as bigint) as medium_risk_reps,
    cast(horizon_months as bigint) as horizon_months,
    cast(case when not is_suppressed then expected_exits end as double) as expected_exits,
    cast(case when not is_suppressed then expected_exits_1m end as double) as expected_exits_1m,
    cast(case when not is_suppressed then expected_exits_3m end as double) as expected_exits_3m,
    cast(case when not is_suppressed then expected_exits_6m end as double) as expected_exits_6m,
    cast(case when not is_suppressed then expected_exits_12m end as double) as expected_exits_12m,
    {{ money('case when not is_suppressed then revenue_at_risk end') }} as revenue_at_risk,
    {{ money('case when not is_suppressed then book_revenue_12m end') }} as book_revenue_12m,
    -- What leadership is shown (def_risk_differencing): bands and a rounded amount, so that
    -- one rep moving between teams or scorings does not show as an exact difference.
    case
        when is_suppressed then null
        when expected_exits < 1 then '0-1'
        when expected_exits < 2 then '1-2'
        when expected_exits < 3 then '2-3'
        when expected_exits < 5 then '3-5'
        when expected_exits < 10 then '5-10'
        else '10 or more'
    end as expected_exits_band,
    case
        when is_suppressed then null
        when high_risk_reps = 0 then '0'
        when high_risk_reps < {{ minimum_reps }} then '1-4'
        when high_risk_reps < 10 then '5-9'
        else '10 or more'
    end as high_risk_reps_band,
    cast(case
        when is_suppressed then null
        when revenue_at_risk <= 0 then 0
        else round(cast(revenue_at_risk as double), 1 - cast(floor(log10(revenue_at_risk)) as int))
    end as double) as revenue_at_risk_rounded,
    is_suppressed,
    score_run_id
from flagged
