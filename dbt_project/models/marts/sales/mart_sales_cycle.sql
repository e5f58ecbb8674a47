-- Sales-cycle length of closed deals by close month, team and segment, with the median
-- days spent in each stage by those deals (every visit of a stage a deal re-entered
-- counts: the days of all its visits add up).
{%- set stages = var('funnel_stages') %}
with closed as (
    select opportunity_id, close_month, team, segment, is_won, cycle_days
    from {{ ref('fct_opportunities') }}
    cross join {{ ref('int_reporting_dates') }} as bounds
    where is_closed
        and close_date >= bounds.reporting_start_month
        and close_date <= bounds.as_of_date
),

stage_days as (
    select
        transitions.opportunity_id,
        {%- for stage in stages %}
        sum(case when transitions.stage_name = '{{ stage }}' then transitions.days_in_stage end)
            as days_in_{{ stage | lower | replace(' ', '_') }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('fct_stage_transitions') }} as transitions
    group by transitions.opportunity_id
),

deals as (
    select closed.*, {% for stage in stages %}stage_days.days_in_{{ stage | lower | replace(' ', '_') }}{% if not loop.last %}, {% endif %}{% endfor %}
    from closed
    left join stage_days on closed.opportunity_id = stage_days.opportunity_id
)

select
    {{ dbt.hash(dbt.concat(["cast(close_month as " ~ dbt.type_string() ~ ")", "'|'", 'team', "'|'", 'segment'])) }}
        as sales_cycle_row_id,
    close_month,
    team,
    segment,
    count(*) as closed_deals,
    {{ count_if('is_won') }} as won_deals,
    {{ percentile('cycle_days', 0.5) }} as median_cycle_days,
    {{ percentile('cycle_days', 0.75) }} as p75_cycle_days,
    {{ percentile('cycle_days', 0.9) }} as p90_cycle_days,
    {{ percentile('case when is_won then cycle_days end', 0.5) }} as median_won_cycle_days,
    {%- for stage in stages %}
    {%- set column = 'days_in_' ~ (stage | lower | replace(' ', '_')) %}
    {{ percentile(column, 0.5) }} as median_{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from deals
group by close_month, team, segment
