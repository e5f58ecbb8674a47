-- Headcount and attrition by month and team, plus an all-company row per month
-- (team = 'All teams', is_company_total). A person counts in the team they were in at
-- month-end, or on their last day when they left that month, so that per row
-- closing = opening + hires - exits.
with employee_months as (
    select
        employee_months.*,
        exits.is_regretted
    from {{ ref('int_employee_months') }} as employee_months
    left join {{ ref('int_employee_exits') }} as exits
        on employee_months.employee_id = exits.employee_id
        and employee_months.is_exit_in_month
),

by_team as (
    select team, false as is_company_total, employee_months.* from employee_months
    union all
    select 'All teams' as team, true as is_company_total, employee_months.* from employee_months
),

counts as (
    select
        month_start,
        by_team.team,
        is_company_total,
        {{ count_if('is_employed_at_month_start') }} as opening_headcount,
        {{ count_if('is_employed_at_month_end') }} as closing_headcount,
        {{ count_if('is_hired_in_month') }} as hires,
        {{ count_if('is_exit_in_month') }} as exits,
        {{ count_if("exit_type = 'voluntary'") }} as voluntary_exits,
        {{ count_if("exit_type = 'involuntary'") }} as involuntary_exits,
        {{ count_if('is_regretted') }} as regretted_exits,
        avg(cast(case when is_employed_at_month_end then tenure_months end as double)) as average_tenure_months
    from by_team
    group by month_start, by_team.team, is_company_total
),

teams as (
    select distinct team, is_company_total from counts
),

grid as (
    select months.month_start, months.month_end, teams.team, teams.is_company_total
    from {{ ref('int_months') }} as months
    cross join teams
),

filled as (
    select
        grid.month_start,
        grid.month_end,
        grid.team,
        grid.is_company_total,
        coalesce(counts.opening_headcount, 0) as opening_headcount,
        coalesce(counts.closing_headcount, 0) as closing_headcount,
        coalesce(counts.hires, 0) as hires,
        coalesce(counts.exits, 0) as exits,
        coalesce(counts.voluntary_exits, 0) as voluntary_exits,
        coalesce(counts.involuntary_exits, 0) as involuntary_exits,
        coalesce(counts.regretted_exits, 0) as regretted_exits,
        counts.average_tenure_months,
        cast(coalesce(counts.opening_headcount, 0) + coalesce(counts.closing_headcount, 0) as double) / 2 as average_headcount
    from grid
    left join counts
        on grid.month_start = counts.month_start and grid.team = counts.team
)

select
    {{ dbt.hash(dbt.concat(["cast(month_start as " ~ dbt.type_string() ~ ")", "'|'", 'team'])) }} as headcount_row_id,
    month_start,
    month_end,
    team,
    is_company_total,
    opening_headcount,
    closing_headcount,
    average_headcount,
    hires,
    exits,
    voluntary_exits,
    involuntary_exits,
    regretted_exits,
    {{ safe_divide('exits * 12', 'average_headcount') }} as annualized_attrition_rate,
    {{ safe_divide('voluntary_exits * 12', 'average_headcount') }} as annualized_voluntary_attrition_rate,
    {{ safe_divide(
        'sum(exits) over (partition by team order by month_start rows between 11 preceding and current row)',
        'avg(average_headcount) over (partition by team order by month_start rows between 11 preceding and current row)'
    ) }} as trailing_12m_attrition_rate,
    {{ safe_divide(
        'sum(voluntary_exits) over (partition by team order by month_start rows between 11 preceding and current row)',
        'avg(average_headcount) over (partition by team order by month_start rows between 11 preceding and current row)'
    ) }} as trailing_12m_voluntary_attrition_rate,
    count(*) over (partition by team order by month_start rows between 11 preceding and current row) = 12
        as has_full_trailing_12m,
    average_tenure_months
from filled
