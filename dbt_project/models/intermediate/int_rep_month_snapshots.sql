{{ config(materialized='table') }}
-- Point-in-time features for the attrition model: one row per rep on the payroll at a
-- month-end, with features computed only from data dated on or before that month-end
-- (activities must also have been logged by then), and the label: did the rep leave
-- voluntarily within the next `attrition_horizon_months` months? Involuntary exits in
-- the horizon are censored (label null), as are horizons that run past as_of_date.
{%- set horizon = var('attrition_horizon_months') %}
with bounds as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

snapshots as (
    select
        employee_months.employee_id,
        employee_months.employee_key,
        employee_months.month_start,
        employee_months.month_end,
        employee_months.team,
        employee_months.job_level,
        employee_months.tenure_months,
        employees.hire_date,
        employees.termination_date,
        employees.termination_type,
        -- the label looks at the whole calendar months after the month-end
        {{ month_end(add_months('employee_months.month_start', horizon)) }} as horizon_end
    from {{ ref('int_employee_months') }} as employee_months
    inner join {{ ref('int_employees') }} as employees
        on employee_months.employee_id = employees.employee_id
    where employee_months.is_employed_at_month_end
        and employees.is_rep
        and employees.selling_since <= employee_months.month_end
),

performance as (
    select
        employee_id,
        month_start,
        sum(bookings) over (partition by employee_id order by month_start rows between 2 preceding and current row)
            as bookings_3m,
        sum(quota_amount) over (partition by employee_id order by month_start rows between 2 preceding and current row)
            as quota_3m,
        sum(bookings) over (partition by employee_id order by month_start rows between 5 preceding and current row)
            as bookings_6m,
        sum(quota_amount) over (partition by employee_id order by month_start rows between 5 preceding and current row)
            as quota_6m,
        sum(bookings) over (partition by employee_id order by month_start rows between 5 preceding and 3 preceding)
            as bookings_prior_3m,
        sum(quota_amount) over (partition by employee_id order by month_start rows between 5 preceding and 3 preceding)
            as quota_prior_3m
    from {{ ref('int_rep_months') }}
),

latest_pay as (
    select employee_id, month_end, base_salary, band_midpoint
    from (
        select
            snapshots.employee_id,
            snapshots.month_end,
            pay.base_salary,
            pay.band_midpoint,
            row_number() over (
                partition by snapshots.employee_id, snapshots.month_end order by pay.effective_date desc
            ) as recency
        from snapshots
        inner join {{ ref('stg_hr__compensation_changes') }} as pay
            on snapshots.employee_id = pay.employee_id and pay.effective_date <= snapshots.month_end
    ) as ranked
    where recency = 1
),

job_changes as (
    select
        snapshots.employee_id,
        snapshots.month_end,
        max(case when changes.change_type = 'promotion' then changes.effective_date end) as last_promotion_on,
        max(case when changes.change_type = 'manager_change' then changes.effective_date end)
            as last_manager_change_on,
        {{ count_if("changes.change_type = 'manager_change' and changes.effective_date > " ~ add_months('snapshots.month_end', -12)) }}
            as manager_changes_12m
    from snapshots
    inner join {{ ref('stg_hr__job_changes') }} as changes
        on snapshots.employee_id = changes.employee_id and changes.effective_date <= snapshots.month_end
    group by snapshots.employee_id, snapshots.month_end
),

surveys as (
    select
        employee_id,
        month_end,
        max(case when recency = 1 then survey_date end) as last_survey_on,
        max(case when recency = 1 then engagement end) as last_engagement,
        max(case when recency = 2 then engagement end) as previous_engagement,
        max(case when recency = 1 then satisfaction end) as last_satisfaction,
        max(case when recency = 1 then intent_to_stay end) as last_intent_to_stay
    from (
        select
            snapshots.employee_id,
            snapshots.month_end,
            surveys.survey_date,
            surveys.engagement,
            surveys.satisfaction,
            surveys.intent_to_stay,
            row_number() over (
                partition by snapshots.employee_id, snapshots.month_end order by surveys.survey_date desc
            ) as recency
        from snapshots
        inner join {{ ref('stg_hr__engagement_surveys') }} as surveys
            on snapshots.employee_id = surveys.employee_id and surveys.survey_date <= snapshots.month_end
    ) as ranked
    where recency <= 2
    group by employee_id, month_end
),

ratings as (
    select
        employee_id,
        month_end,
        max(case when recency = 1 then rating end) as last_rating,
        max(case when recency = 2 then rating end) as previous_rating
    from (
        select
            snapshots.employee_id,
            snapshots.month_end,
            reviews.rating,
            row_number() over (
                partition by snapshots.employee_id, snapshots.month_end order by reviews.review_date desc
            ) as recency
        from snapshots
        inner join {{ ref('stg_hr__performance_reviews') }} as reviews
            on snapshots.employee_id = reviews.employee_id and reviews.review_date <= snapshots.month_end
    ) as ranked
    where recency <= 2
    group by employee_id, month_end
),

activity as (
    select
        snapshots.employee_id,
        snapshots.month_end,
        sum(case when activities.occurred_month > {{ add_months('snapshots.month_start', -3) }}
            then activities.activities else 0 end) as activities_3m,
        sum(case when activities.occurred_month <= {{ add_months('snapshots.month_start', -3) }}
            then activities.activities else 0 end) as activities_prior_3m
    from snapshots
    inner join {{ ref('int_user_employees') }} as users on snapshots.employee_id = users.employee_id
    inner join {{ ref('int_account_activity_months') }} as activities
        on users.user_id = activities.user_id
        and activities.occurred_month > {{ add_months('snapshots.month_start', -6) }}
        and activities.occurred_month <= snapshots.month_start
        and activities.logged_month <= snapshots.month_start
    group by snapshots.employee_id, snapshots.month_end
),

team_exits as (
    select
        snapshots.employee_id,
        snapshots.month_end,
        count(*) as team_exits_6m,
        {{ count_if("leavers.exit_type = 'voluntary'") }} as team_voluntary_exits_6m
    from snapshots
    inner join {{ ref('int_employee_months') }} as leavers
        on snapshots.team = leavers.team
        and leavers.is_exit_in_month
        and leavers.employee_id <> snapshots.employee_id
        and leavers.month_start > {{ add_months('snapshots.month_start', -6) }}
        and leavers.month_start <= snapshots.month_start
    group by snapshots.employee_id, snapshots.month_end
),

owned_accounts as (
    select
        snapshots.employee_id,
        snapshots.month_end,
        snapshots.month_start,
        periods.account_id
    from snapshots
    inner join {{ ref('int_account_owner_periods') }} as periods
        on snapshots.employee_id = periods.owner_employee_id
        and periods.valid_from <= snapshots.month_end
        and (periods.valid_to is null or periods.valid_to > snapshots.month_end)
),

account_threads as (
    select
        owned_accounts.employee_id,
        owned_accounts.month_end,
        owned_accounts.account_id,
        count(distinct activities.user_id) as people_engaged
    from owned_accounts
    left join {{ ref('int_account_activity_months') }} as activities
        on owned_accounts.account_id = activities.account_id
        and activities.occurred_month > {{ add_months('owned_accounts.month_start', -6) }}
        and activities.occurred_month <= owned_accounts.month_start
        and activities.logged_month <= owned_accounts.month_start
    group by owned_accounts.employee_id, owned_accounts.month_end, owned_accounts.account_id
),

accounts as (
    select
        employee_id,
        month_end,
        count(*) as accounts_owned,
        {{ safe_divide(count_if('people_engaged = 1'), 'count(*)') }} as single_threaded_share
    from account_threads
    group by employee_id, month_end
),

pipeline as (
    select
        owned_accounts.employee_id,
        owned_accounts.month_end,
        count(*) as open_opportunities,
        sum(open_periods.amount) as open_pipeline
    from owned_accounts
    inner join {{ ref('int_opportunity_open_periods') }} as open_periods
        on owned_accounts.account_id = open_periods.account_id
        and open_periods.created_on <= owned_accounts.month_end
        and (open_periods.closed_on is null or open_periods.closed_on > owned_accounts.month_end)
    group by owned_accounts.employee_id, owned_accounts.month_end
)

select
    {{ dbt.hash(dbt.concat(['snapshots.employee_key', "'|'", "cast(snapshots.month_end as " ~ dbt.type_string() ~ ")"])) }}
        as snapshot_id,
    snapshots.employee_key,
    snapshots.month_end,
    snapshots.team,
    snapshots.job_level,
    snapshots.tenure_months,
    {{ safe_divide('performance.bookings_3m', 'performance.quota_3m') }} as attainment_3m,
    {{ safe_divide('performance.bookings_6m', 'performance.quota_6m') }} as attainment_6m,
    {{ safe_divide('performance.bookings_3m', 'performance.quota_3m') }}
        - {{ safe_divide('performance.bookings_prior_3m', 'performance.quota_prior_3m') }} as attainment_trend,
    {{ safe_divide('latest_pay.base_salary', 'latest_pay.band_midpoint') }} - 1 as pay_vs_band,
    {{ months_between('coalesce(job_changes.last_promotion_on, snapshots.hire_date)', 'snapshots.month_end') }}
        as months_since_promotion,
    cast(coalesce(job_changes.manager_changes_12m, 0) as bigint) as manager_changes_12m,
    {{ months_between('job_changes.last_manager_change_on', 'snapshots.month_end') }}
        as months_since_manager_change,
    surveys.last_engagement,
    surveys.last_engagement - surveys.previous_engagement as engagement_change,
    surveys.last_satisfaction,
    surveys.last_intent_to_stay,
    {{ months_between('surveys.last_survey_on', 'snapshots.month_end') }} as months_since_survey,
    ratings.last_rating,
    ratings.last_rating - ratings.previous_rating as rating_change,
    cast(coalesce(activity.activities_3m, 0) as bigint) as activities_3m,
    {{ safe_divide('activity.activities_3m', 'activity.activities_prior_3m') }} - 1 as activity_trend,
    cast(coalesce(team_exits.team_exits_6m, 0) as bigint) as team_exits_6m,
    cast(coalesce(team_exits.team_voluntary_exits_6m, 0) as bigint) as team_voluntary_exits_6m,
    cast(coalesce(accounts.accounts_owned, 0) as bigint) as accounts_owned,
    accounts.single_threaded_share,
    cast(coalesce(pipeline.open_opportunities, 0) as bigint) as open_opportunities,
    {{ money('coalesce(pipeline.open_pipeline, 0)') }} as open_pipeline,
    -- label: after the month-end
    case
        when snapshots.termination_date <= snapshots.horizon_end
            then snapshots.termination_type
    end as exit_type_within_horizon,
    case
        when snapshots.termination_date <= snapshots.horizon_end
            and snapshots.termination_type = 'voluntary' then true
        when snapshots.termination_date <= snapshots.horizon_end then null
        when snapshots.horizon_end > bounds.as_of_date then null
        else false
    end as left_voluntarily_within_horizon,
    case
        when snapshots.termination_date <= snapshots.horizon_end
            and snapshots.termination_type = 'voluntary' then 'observed_exit'
        when snapshots.termination_date <= snapshots.horizon_end
            then 'censored_involuntary'
        when snapshots.horizon_end > bounds.as_of_date then 'censored_horizon'
        else 'observed_stay'
    end as label_status,
    -- time to event, for the labels of every horizon (1, 3, 6, 12 months): the calendar
    -- months from this month to the exit's month, the exit's type, and how many whole
    -- calendar months after this month-end the data has seen (an exit within k <= that
    -- many months, or a stay through them, is known)
    {{ months_between('snapshots.month_end', 'snapshots.termination_date') }} as months_to_exit,
    snapshots.termination_type as exit_type,
    {{ months_between('snapshots.month_end', 'bounds.as_of_date') }}
        - case when bounds.as_of_date < {{ month_end('bounds.as_of_date') }} then 1 else 0 end
        as follow_up_months
from snapshots
cross join bounds
left join performance
    on snapshots.employee_id = performance.employee_id and snapshots.month_start = performance.month_start
left join latest_pay on snapshots.employee_id = latest_pay.employee_id and snapshots.month_end = latest_pay.month_end
left join job_changes on snapshots.employee_id = job_changes.employee_id and snapshots.month_end = job_changes.month_end
left join surveys on snapshots.employee_id = surveys.employee_id and snapshots.month_end = surveys.month_end
left join ratings on snapshots.employee_id = ratings.employee_id and snapshots.month_end = ratings.month_end
left join activity on snapshots.employee_id = activity.employee_id and snapshots.month_end = activity.month_end
left join team_exits on snapshots.employee_id = team_exits.employee_id and snapshots.month_end = team_exits.month_end
left join accounts on snapshots.employee_id = accounts.employee_id and snapshots.month_end = accounts.month_end
left join pipeline on snapshots.employee_id = pipeline.employee_id and snapshots.month_end = pipeline.month_end
