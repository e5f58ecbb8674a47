-- How many reps reached which share of their quota over the 3 months ending in each
-- month (def_attainment_bands): one row per window and band, the window's company totals
-- on every row. Counts of people, no employee key; the analyst database publishes it
-- with small cells suppressed.
with scorecard as (
    select employee_key, month_start, quota_amount, bookings
    from {{ ref('mart_rep_scorecard') }}
),

window_ends as (
    select distinct month_start as window_end_month from scorecard
),

rep_windows as (
    select
        window_ends.window_end_month,
        scorecard.employee_key,
        sum(scorecard.quota_amount) as quota_amount,
        sum(scorecard.bookings) as bookings
    from window_ends
    inner join scorecard
        on scorecard.month_start <= window_ends.window_end_month
        and scorecard.month_start > {{ add_months('window_ends.window_end_month', -3) }}
    group by window_ends.window_end_month, scorecard.employee_key
    having sum(scorecard.quota_amount) > 0
),

banded as (
    select
        window_end_month,
        quota_amount,
        bookings,
        case
            when bookings < 0.5 * quota_amount then 1
            when bookings < 0.8 * quota_amount then 2
            when bookings < quota_amount then 3
            when bookings < 1.2 * quota_amount then 4
            else 5
        end as band_order
    from rep_windows
),

bands as (
    select 1 as band_order, 'under 50%' as attainment_band
    union all select 2, '50-80%'
    union all select 3, '80-100%'
    union all select 4, '100-120%'
    union all select 5, '120% and over'
),

windows as (
    select
        window_end_month,
        count(*) as reps_with_quota,
        sum(bookings) as bookings,
        sum(quota_amount) as quota_amount
    from banded
    group by window_end_month
),

band_counts as (
    select window_end_month, band_order, count(*) as reps
    from banded
    group by window_end_month, band_order
)

select
    {{ dbt.hash(dbt.concat([
        "cast(windows.window_end_month as " ~ dbt.type_string() ~ ")", "'|'",
        "cast(bands.band_order as " ~ dbt.type_string() ~ ")"])) }} as attainment_row_id,
    {{ add_months('windows.window_end_month', -2) }} as window_start_month,
    windows.window_end_month,
    bands.attainment_band,
    cast(bands.band_order as bigint) as band_order,
    cast(coalesce(band_counts.reps, 0) as bigint) as reps,
    cast(windows.reps_with_quota as bigint) as reps_with_quota,
    {{ money('windows.bookings') }} as bookings,
    {{ money('windows.quota_amount') }} as quota_amount,
    {{ safe_divide('windows.bookings', 'windows.quota_amount') }} as attainment
from windows
cross join bands
left join band_counts
    on band_counts.window_end_month = windows.window_end_month
    and band_counts.band_order = bands.band_order
