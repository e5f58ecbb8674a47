-- The 20/80 view: for each month, quarter and year, the share of bookings that came from
-- the top 20% of reps (rounded up) by bookings in that period.
{%- set period_types = ['month', 'quarter', 'year'] %}
with bounds as (
    select * from {{ ref('int_reporting_dates') }}
),

rep_periods as (
    {%- for period_type in period_types %}
    select
        '{{ period_type }}' as period_type,
        cast({{ dbt.date_trunc(period_type, 'month_start') }} as date) as period_start,
        employee_key,
        sum(bookings) as bookings
    from {{ ref('int_rep_months') }}
    group by cast({{ dbt.date_trunc(period_type, 'month_start') }} as date), employee_key
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

ranked as (
    select
        rep_periods.*,
        row_number() over (
            partition by period_type, period_start order by bookings desc, employee_key
        ) as bookings_rank,
        count(*) over (partition by period_type, period_start) as reps
    from rep_periods
)

select
    {{ dbt.hash(dbt.concat(['period_type', "'|'", "cast(period_start as " ~ dbt.type_string() ~ ")"])) }}
        as concentration_row_id,
    period_type,
    period_start,
    case period_type
        when 'month' then {{ month_end('period_start') }}
        when 'quarter' then {{ add_days(add_months('period_start', 3), -1) }}
        else {{ add_days(add_months('period_start', 12), -1) }}
    end <= max(bounds.last_complete_month_end)
        and period_start >= max(bounds.reporting_start_month) as is_complete_period,
    cast(max(reps) as bigint) as reps,
    cast(ceil(max(reps) * 0.2) as bigint) as top_reps,
    {{ money('sum(bookings)') }} as bookings,
    {{ money('sum(case when bookings_rank <= ceil(reps * 0.2) then bookings else 0 end)') }} as top_20_percent_bookings,
    {{ safe_divide('sum(case when bookings_rank <= ceil(reps * 0.2) then bookings else 0 end)', 'sum(bookings)') }}
        as top_20_percent_share
from ranked
cross join bounds
group by period_type, period_start
