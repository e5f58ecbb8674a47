-- One row per account as of the reporting date: who owns it, how many people work it,
-- how well it is documented, what it is worth.
{%- set engagement_days = var('engagement_window_days') %}
{%- set documentation_days = var('documentation_window_days') %}
with bounds as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

recent_activities as (
    select activities.*
    from {{ ref('stg_crm__activities') }} as activities
    cross join bounds
    where activities.occurred_on > {{ add_days('bounds.as_of_date', -engagement_days) }}
        and activities.occurred_on <= bounds.as_of_date
        and activities.logged_on <= bounds.as_of_date
),

engagement as (
    select account_id, count(distinct owner_user_id) as people_engaged
    from recent_activities
    group by account_id
),

last_touch as (
    select activities.account_id, max(activities.occurred_on) as last_touch_on
    from {{ ref('stg_crm__activities') }} as activities
    cross join bounds
    where activities.occurred_on <= bounds.as_of_date
    group by activities.account_id
),

documentation as (
    select
        items.account_id,
        count(*) as documentation_items,
        {{ count_if('items.documented_on is not null') }} as documented_items
    from {{ ref('int_account_documentation_items') }} as items
    cross join bounds
    where items.item_date > {{ add_days('bounds.as_of_date', -365) }}
        and items.item_date <= {{ add_days('bounds.as_of_date', -documentation_days) }}
    group by items.account_id
),

revenue as (
    select
        opportunities.account_id,
        sum(case when opportunities.is_won
            and opportunities.close_date > {{ add_days('bounds.as_of_date', -365) }}
            and opportunities.close_date <= bounds.as_of_date
            then opportunities.amount else 0 end) as trailing_12m_revenue,
        sum(case when not opportunities.is_closed then opportunities.amount else 0 end) as open_pipeline,
        {{ count_if('not opportunities.is_closed') }} as open_opportunities
    from {{ ref('fct_opportunities') }} as opportunities
    cross join bounds
    group by opportunities.account_id
),

current_owners as (
    select account_id, owner_user_id, owner_employee_id, owner_employee_key
    from {{ ref('int_account_owner_periods') }}
    where valid_to is null
),

supporting_team as (
    select team_members.account_id, count(distinct team_members.user_id) as team_members
    from {{ ref('stg_crm__account_team_members') }} as team_members
    cross join bounds
    where team_members.start_date <= bounds.as_of_date
        and (team_members.end_date is null or team_members.end_date > bounds.as_of_date)
    group by team_members.account_id
)

select
    accounts.account_id,
    accounts.account_name,
    accounts.segment,
    accounts.industry,
    accounts.region,
    accounts.is_key_account,
    coalesce(current_owners.owner_employee_key, owner_users.employee_key) as owner_employee_key,
    case
        when owner_employees.employee_id is not null then owner_employees.team
        else current_owner_users.crm_team
    end as owner_team,
    owner_employees.termination_date is not null
        and owner_employees.termination_date <= bounds.as_of_date as owner_has_left,
    cast(coalesce(supporting_team.team_members, 0) as bigint) as supporting_team_members,
    cast(coalesce(engagement.people_engaged, 0) as bigint) as people_engaged_180d,
    coalesce(engagement.people_engaged, 0) = 1 as is_single_threaded,
    last_touch.last_touch_on,
    {{ days_between('last_touch.last_touch_on', 'bounds.as_of_date') }} as days_since_last_touch,
    coalesce(documentation.documentation_items, 0) as documentation_items,
    coalesce(documentation.documented_items, 0) as documented_items,
    {{ safe_divide('documentation.documented_items', 'documentation.documentation_items') }}
        as documentation_completeness,
    {{ money('coalesce(revenue.trailing_12m_revenue, 0)') }} as trailing_12m_revenue,
    {{ money('coalesce(revenue.open_pipeline, 0)') }} as open_pipeline,
    coalesce(revenue.open_opportunities, 0) as open_opportunities,
    bounds.as_of_date
from {{ ref('stg_crm__accounts') }} as accounts
cross join bounds
left join current_owners on accounts.account_id = current_owners.account_id
left join {{ ref('int_user_employees') }} as owner_users on accounts.owner_user_id = owner_users.user_id
left join {{ ref('int_user_employees') }} as current_owner_users
    on current_owner_users.user_id = coalesce(current_owners.owner_user_id, accounts.owner_user_id)
left join {{ ref('int_employees') }} as owner_employees
    on owner_employees.employee_id = coalesce(current_owners.owner_employee_id, owner_users.employee_id)
left join engagement on accounts.account_id = engagement.account_id
left join last_touch on accounts.account_id = last_touch.account_id
left join documentation on accounts.account_id = documentation.account_id
left join revenue on accounts.account_id = revenue.account_id
left join supporting_team on accounts.account_id = supporting_team.account_id
