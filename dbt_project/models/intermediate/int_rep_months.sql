{{ config(materialized='table') }}
-- One row per rep and month: HR reps (quota carriers and deal owners) for every month
-- employed, and reps seen only in the CRM (users with no HR record who own deals) for
-- every month from their first to their last CRM activity (a deal they own created or
-- closed, an activity they logged), without quota, job level or tenure. Per month: quota
-- (prorated by days when a quota period is not a calendar month), bookings and deals
-- closed by the rep as opportunity owner, pipeline created, open pipeline at the start of
-- the month, and activities logged. Deals and activities are matched to a rep through
-- the owner's rep_key (int_user_employees).
with hr_rep_months as (
    select
        employee_id,
        employee_key,
        true as has_hr_record,
        month_start,
        month_end,
        team,
        job_level,
        tenure_months,
        is_employed_at_month_end
    from {{ ref('int_employee_months') }}
    where is_rep
),

deal_owners as (
    select distinct owner_user_id as user_id
    from {{ ref('stg_crm__opportunities') }}
),

active_days as (
    select owner_user_id as user_id, created_on as active_on
    from {{ ref('stg_crm__opportunities') }}
    union all
    select owner_user_id, close_date
    from {{ ref('stg_crm__opportunities') }}
    where is_closed
    union all
    select owner_user_id, occurred_on
    from {{ ref('stg_crm__activities') }}
),

crm_reps as (
    select
        users.rep_key,
        coalesce(users.crm_team, 'Unassigned') as team,
        min(active_days.active_on) as first_active_on,
        max(active_days.active_on) as last_active_on
    from {{ ref('int_user_employees') }} as users
    inner join deal_owners on users.user_id = deal_owners.user_id
    inner join active_days on users.user_id = active_days.user_id
    where not users.has_hr_record
    group by users.rep_key, coalesce(users.crm_team, 'Unassigned')
),

crm_rep_months as (
    select
        cast(null as {{ dbt.type_string() }}) as employee_id,
        crm_reps.rep_key as employee_key,
        false as has_hr_record,
        months.month_start,
        months.month_end,
        crm_reps.team,
        cast(null as bigint) as job_level,
        cast(null as bigint) as tenure_months,
        cast(null as boolean) as is_employed_at_month_end
    from crm_reps
    inner join {{ ref('int_months') }} as months
        on months.month_end >= crm_reps.first_active_on
        and months.month_start <= crm_reps.last_active_on
),

rep_months as (
    select * from hr_rep_months
    union all
    select * from crm_rep_months
),

quota_overlaps as (
    select
        quotas.employee_id,
        months.month_start,
        quotas.quota_amount,
        {{ days_between(
            'case when quotas.period_start > months.month_start then quotas.period_start else months.month_start end',
            'case when quotas.period_end < months.month_end then quotas.period_end else months.month_end end') }} + 1
            as overlap_days,
        {{ days_between('quotas.period_start', 'quotas.period_end') }} + 1 as period_days
    from {{ ref('stg_sales__quotas') }} as quotas
    inner join {{ ref('int_months') }} as months
        on quotas.period_start <= months.month_end
        and quotas.period_end >= months.month_start
),

quota_months as (
    select
        employee_id,
        month_start,
        {{ money('sum(quota_amount * overlap_days / period_days)') }} as quota_amount
    from quota_overlaps
    group by employee_id, month_start
),

owned_opportunities as (
    select
        users.rep_key,
        opportunities.*
    from {{ ref('fct_opportunities') }} as opportunities
    inner join {{ ref('stg_crm__opportunities') }} as source_opportunities
        on opportunities.opportunity_id = source_opportunities.opportunity_id
    inner join {{ ref('int_user_employees') }} as users
        on source_opportunities.owner_user_id = users.user_id
),

closed_months as (
    select
        rep_key,
        close_month as month_start,
        {{ count_if('is_won') }} as deals_won,
        {{ count_if('is_lost') }} as deals_lost,
        {{ money('sum(case when is_won then amount else 0 end)') }} as bookings,
        {{ money('sum(case when is_lost then amount else 0 end)') }} as lost_amount
    from owned_opportunities
    where is_closed
    group by rep_key, close_month
),

created_months as (
    select
        rep_key,
        created_month as month_start,
        count(*) as opportunities_created,
        {{ money('sum(amount)') }} as pipeline_created
    from owned_opportunities
    group by rep_key, created_month
),

open_at_month_start as (
    select
        users.rep_key,
        months.month_start,
        count(*) as open_opportunities_at_start,
        {{ money('sum(open_periods.amount)') }} as open_pipeline_at_start
    from {{ ref('int_opportunity_open_periods') }} as open_periods
    inner join {{ ref('int_user_employees') }} as users
        on open_periods.owner_user_id = users.user_id
    inner join {{ ref('int_months') }} as months
        on open_periods.created_on < months.month_start
        and (open_periods.closed_on is null or open_periods.closed_on >= months.month_start)
    group by users.rep_key, months.month_start
),

activity_months as (
    select
        users.rep_key,
        {{ month_start('activities.occurred_on') }} as month_start,
        count(*) as activities
    from {{ ref('stg_crm__activities') }} as activities
    inner join {{ ref('int_user_employees') }} as users
        on activities.owner_user_id = users.user_id
    group by users.rep_key, {{ month_start('activities.occurred_on') }}
)

select
    rep_months.employee_id,
    rep_months.employee_key,
    rep_months.has_hr_record,
    rep_months.month_start,
    rep_months.month_end,
    rep_months.team,
    rep_months.job_level,
    rep_months.tenure_months,
    rep_months.is_employed_at_month_end,
    quota_months.quota_amount,
    coalesce(closed_months.bookings, 0) as bookings,
    coalesce(closed_months.deals_won, 0) as deals_won,
    coalesce(closed_months.deals_lost, 0) as deals_lost,
    coalesce(closed_months.lost_amount, 0) as lost_amount,
    coalesce(created_months.opportunities_created, 0) as opportunities_created,
    coalesce(created_months.pipeline_created, 0) as pipeline_created,
    coalesce(open_at_month_start.open_opportunities_at_start, 0) as open_opportunities_at_start,
    coalesce(open_at_month_start.open_pipeline_at_start, 0) as open_pipeline_at_start,
    coalesce(activity_months.activities, 0) as activities
from rep_months
left join quota_months
    on rep_months.employee_id = quota_months.employee_id and rep_months.month_start = quota_months.month_start
left join closed_months
    on rep_months.employee_key = closed_months.rep_key and rep_months.month_start = closed_months.month_start
left join created_months
    on rep_months.employee_key = created_months.rep_key and rep_months.month_start = created_months.month_start
left join open_at_month_start
    on rep_months.employee_key = open_at_month_start.rep_key
    and rep_months.month_start = open_at_month_start.month_start
left join activity_months
    on rep_months.employee_key = activity_months.rep_key and rep_months.month_start = activity_months.month_start
