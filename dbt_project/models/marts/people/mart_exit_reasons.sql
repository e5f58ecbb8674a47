-- Exits by quarter, stated reason (exit interview first, HR termination reason second)
-- and termination type.
with exits as (
    select
        cast({{ dbt.date_trunc('quarter', 'termination_date') }} as date) as exit_quarter,
        exit_reason,
        termination_type,
        is_regretted,
        would_return
    from {{ ref('int_employee_exits') }}
    where termination_date >= (select reporting_start_month from {{ ref('int_reporting_dates') }})
        and termination_date <= (select as_of_date from {{ ref('int_reporting_dates') }})
)

select
    {{ dbt.hash(dbt.concat(["cast(exit_quarter as " ~ dbt.type_string() ~ ")", "'|'", 'exit_reason', "'|'", 'termination_type'])) }}
        as exit_reason_row_id,
    exit_quarter,
    exit_reason,
    termination_type,
    count(*) as exits,
    {{ count_if('is_regretted') }} as regretted_exits,
    {{ count_if('would_return') }} as would_return
from exits
group by exit_quarter, exit_reason, termination_type
