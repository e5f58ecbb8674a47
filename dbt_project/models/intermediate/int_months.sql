{{ config(materialized='table') }}
-- Every complete calendar month from the first reporting month to the last complete month.
with numbers as (
    {{ dbt.generate_series(600) }}
),

bounds as (
    select * from {{ ref('int_reporting_dates') }}
),

months as (
    select {{ add_months('bounds.reporting_start_month', 'numbers.generated_number - 1') }} as month_start
    from numbers
    cross join bounds
)

select
    months.month_start,
    {{ month_end('months.month_start') }} as month_end
from months
cross join bounds
where {{ month_end('months.month_start') }} <= bounds.last_complete_month_end
