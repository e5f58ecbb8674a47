-- One row per rep (pseudonymous employee_key) and month employed; reps seen only in the
-- CRM (has_hr_record false) from their first to their last month of CRM activity.
select
    {{ dbt.hash(dbt.concat(['employee_key', "'|'", "cast(month_start as " ~ dbt.type_string() ~ ")"])) }}
        as scorecard_row_id,
    employee_key,
    has_hr_record,
    month_start,
    team,
    job_level,
    tenure_months,
    quota_amount,
    bookings,
    {{ safe_divide('bookings', 'quota_amount') }} as attainment,
    {{ safe_divide(
        'sum(bookings) over (partition by employee_key order by month_start rows between 11 preceding and current row)',
        'sum(quota_amount) over (partition by employee_key order by month_start rows between 11 preceding and current row)'
    ) }} as attainment_trailing_12m,
    deals_won,
    deals_lost,
    {{ safe_divide('deals_won', 'deals_won + deals_lost') }} as win_rate,
    {{ safe_divide('bookings', 'bookings + lost_amount') }} as win_rate_by_amount,
    {{ safe_divide('bookings', 'deals_won') }} as average_deal_size,
    opportunities_created,
    pipeline_created,
    open_opportunities_at_start,
    open_pipeline_at_start,
    {{ safe_divide('open_pipeline_at_start', 'quota_amount') }} as pipeline_coverage,
    activities
from {{ ref('int_rep_months') }}
