-- Stage-by-stage conversion by cohort: opportunities that reached a stage in the month,
-- and how many of them went on to any later stage (skipped stages count as passed).
-- Cohort months run from the first reporting month to the as-of date.
with reached as (
    select
        reached.opportunity_id,
        reached.stage_name,
        reached.stage_order,
        reached.advanced,
        {{ month_start('reached.entered_on') }} as cohort_month,
        opportunities.team,
        opportunities.segment,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.amount
    from {{ ref('int_opportunity_stages_reached') }} as reached
    inner join {{ ref('fct_opportunities') }} as opportunities
        on reached.opportunity_id = opportunities.opportunity_id
    cross join {{ ref('int_reporting_dates') }} as bounds
    where reached.stage_order <= {{ var('funnel_stages') | length }}
        and reached.entered_on >= bounds.reporting_start_month
        and reached.entered_on <= bounds.as_of_date
)

select
    {{ dbt.hash(dbt.concat(["cast(cohort_month as " ~ dbt.type_string() ~ ")", "'|'", 'team', "'|'", 'segment', "'|'", 'stage_name'])) }}
        as funnel_row_id,
    cohort_month,
    team,
    segment,
    stage_name,
    stage_order,
    count(*) as entered,
    {{ count_if('advanced') }} as advanced,
    {{ safe_divide(count_if('advanced'), 'count(*)') }} as conversion_rate,
    {{ count_if('is_won') }} as won,
    {{ count_if('is_lost') }} as lost,
    {{ count_if('not is_won and not is_lost') }} as still_open,
    {{ safe_divide(count_if('is_won'), count_if('is_won') ~ ' + ' ~ count_if('is_lost')) }} as win_rate,
    {{ safe_divide('sum(case when is_won then amount else 0 end)',
                   'sum(case when is_won or is_lost then amount else 0 end)') }} as win_rate_by_amount
from reached
group by cohort_month, team, segment, stage_name, stage_order
