{{ config(materialized='table') }}
-- One row per account whose owner left while owning it (or handed it over within 30 days
-- before leaving): what was known about the account on the departure date, and what
-- happened next. Feature columns use only data dated on or before the departure date;
-- outcome columns (handover_*, successor_*, *_after, retained_12m) come later.
{%- set engagement_days = var('engagement_window_days') %}
{%- set documentation_days = var('documentation_window_days') %}
with bounds as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

departures as (
    select
        periods.account_id,
        periods.owner_employee_id as departed_employee_id,
        periods.owner_employee_key as departed_employee_key,
        employees.termination_date as departed_on,
        employees.termination_type,
        employees.hire_date as departed_hire_date,
        periods.valid_to as handover_on,
        successors.employee_key as successor_employee_key
    from {{ ref('int_account_owner_periods') }} as periods
    inner join {{ ref('int_employees') }} as employees
        on periods.owner_employee_id = employees.employee_id
    cross join bounds
    left join {{ ref('int_user_employees') }} as successors
        on periods.next_owner_user_id = successors.user_id
    where employees.termination_date is not null
        and employees.termination_date <= bounds.as_of_date
        and periods.valid_from <= employees.termination_date
        and (periods.valid_to is null or periods.valid_to >= {{ add_days('employees.termination_date', -30) }})
),

engagement as (
    select departures.account_id, departures.departed_employee_id, count(distinct activities.owner_user_id) as people
    from departures
    inner join {{ ref('stg_crm__activities') }} as activities
        on departures.account_id = activities.account_id
        and activities.occurred_on > {{ add_days('departures.departed_on', -engagement_days) }}
        and activities.occurred_on <= departures.departed_on
        and activities.logged_on <= departures.departed_on
    group by departures.account_id, departures.departed_employee_id
),

documentation as (
    select
        departures.account_id,
        departures.departed_employee_id,
        count(*) as items,
        {{ count_if('items.documented_on is not null') }} as documented
    from departures
    inner join {{ ref('int_account_documentation_items') }} as items
        on departures.account_id = items.account_id
        and items.item_date > {{ add_days('departures.departed_on', -365) }}
        and items.item_date <= {{ add_days('departures.departed_on', -documentation_days) }}
    group by departures.account_id, departures.departed_employee_id
),

supporting_team as (
    select departures.account_id, departures.departed_employee_id, count(distinct members.user_id) as members
    from departures
    inner join {{ ref('stg_crm__account_team_members') }} as members
        on departures.account_id = members.account_id
        and members.start_date <= departures.departed_on
        and (members.end_date is null or members.end_date > departures.departed_on)
    group by departures.account_id, departures.departed_employee_id
),

deals as (
    select
        departures.account_id,
        departures.departed_employee_id,
        sum(case when opportunities.is_won
            and opportunities.close_date > {{ add_days('departures.departed_on', -365) }}
            and opportunities.close_date <= departures.departed_on
            then opportunities.amount else 0 end) as revenue_12m_before,
        sum(case when opportunities.is_won
            and opportunities.close_date > departures.departed_on
            and opportunities.close_date <= {{ add_days('departures.departed_on', 365) }}
            then opportunities.amount else 0 end) as revenue_12m_after,
        {{ count_if("opportunities.is_won and opportunities.close_date > departures.departed_on and opportunities.close_date <= " ~ add_days('departures.departed_on', 365)) }}
            as won_deals_12m_after
    from departures
    inner join {{ ref('fct_opportunities') }} as opportunities
        on departures.account_id = opportunities.account_id
    group by departures.account_id, departures.departed_employee_id
),

activity_after as (
    -- the account is still alive: someone logged work on it after the handover
    select departures.account_id, departures.departed_employee_id, count(*) as activities
    from departures
    inner join {{ ref('stg_crm__activities') }} as activities
        on departures.account_id = activities.account_id
        and activities.occurred_on > departures.departed_on
        and (departures.handover_on is null or activities.occurred_on > departures.handover_on)
        and activities.occurred_on <= {{ add_days('departures.departed_on', 365) }}
    group by departures.account_id, departures.departed_employee_id
),

open_pipeline as (
    select
        departures.account_id,
        departures.departed_employee_id,
        count(*) as open_opportunities,
        sum(open_periods.amount) as open_pipeline
    from departures
    inner join {{ ref('int_opportunity_open_periods') }} as open_periods
        on departures.account_id = open_periods.account_id
        and open_periods.created_on <= departures.departed_on
        and (open_periods.closed_on is null or open_periods.closed_on > departures.departed_on)
    group by departures.account_id, departures.departed_employee_id
)

select
    {{ dbt.hash(dbt.concat(['departures.account_id', "'|'", 'departures.departed_employee_key'])) }} as handover_id,
    departures.account_id,
    departures.departed_employee_key,
    departures.departed_on,
    departures.termination_type = 'voluntary' as is_voluntary_departure,
    {{ months_between('departures.departed_hire_date', 'departures.departed_on') }} as departed_tenure_months,
    accounts.segment,
    accounts.industry,
    accounts.is_key_account,
    {{ days_between('accounts.created_on', 'departures.departed_on') }} as account_age_days,
    cast(coalesce(engagement.people, 0) as bigint) as people_engaged_180d,
    coalesce(engagement.people, 0) = 1 as is_single_threaded,
    cast(coalesce(supporting_team.members, 0) as bigint) as supporting_team_members,
    cast(coalesce(documentation.items, 0) as bigint) as documentation_items,
    {{ safe_divide('documentation.documented', 'documentation.items') }} as documentation_completeness,
    {{ money('coalesce(deals.revenue_12m_before, 0)') }} as revenue_12m_before,
    cast(coalesce(open_pipeline.open_opportunities, 0) as bigint) as open_opportunities,
    {{ money('coalesce(open_pipeline.open_pipeline, 0)') }} as open_pipeline,
    -- outcome: known only after the departure
    departures.handover_on,
    departures.successor_employee_key,
    {{ days_between('departures.departed_on', 'departures.handover_on') }} as handover_delay_days,
    {{ money('coalesce(deals.revenue_12m_after, 0)') }} as revenue_12m_after,
    coalesce(deals.won_deals_12m_after, 0) as won_deals_12m_after,
    cast(coalesce(activity_after.activities, 0) as bigint) as activities_12m_after,
    {{ add_days('departures.departed_on', 365) }} <= bounds.as_of_date as is_outcome_final,
    case
        when coalesce(deals.won_deals_12m_after, 0) > 0 or activity_after.activities > 0 then true
        when {{ add_days('departures.departed_on', 365) }} <= bounds.as_of_date then false
    end as retained_12m
from departures
cross join bounds
inner join {{ ref('stg_crm__accounts') }} as accounts on departures.account_id = accounts.account_id
left join engagement
    on departures.account_id = engagement.account_id and departures.departed_employee_id = engagement.departed_employee_id
left join documentation
    on departures.account_id = documentation.account_id and departures.departed_employee_id = documentation.departed_employee_id
left join supporting_team
    on departures.account_id = supporting_team.account_id
    and departures.departed_employee_id = supporting_team.departed_employee_id
left join deals
    on departures.account_id = deals.account_id and departures.departed_employee_id = deals.departed_employee_id
left join activity_after
    on departures.account_id = activity_after.account_id
    and departures.departed_employee_id = activity_after.departed_employee_id
left join open_pipeline
    on departures.account_id = open_pipeline.account_id
    and departures.departed_employee_id = open_pipeline.departed_employee_id
