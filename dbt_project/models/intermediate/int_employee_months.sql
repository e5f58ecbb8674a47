{{ config(materialized='table') }}
-- One row per employee and month in which they were employed on at least one day, with
-- the team they were in at month-end (or on their last day), and whether they were on
-- the payroll at the start and at the end of the month. termination_date is the last
-- day employed.
with employee_months as (
    select
        employees.employee_id,
        employees.employee_key,
        employees.is_rep,
        employees.hire_date,
        employees.termination_date,
        employees.termination_type,
        months.month_start,
        months.month_end,
        case
            when employees.termination_date is not null and employees.termination_date < months.month_end
                then employees.termination_date
            else months.month_end
        end as team_as_of
    from {{ ref('int_employees') }} as employees
    inner join {{ ref('int_months') }} as months
        on employees.hire_date <= months.month_end
        and (employees.termination_date is null or employees.termination_date >= months.month_start)
)

select
    employee_months.employee_id,
    employee_months.employee_key,
    employee_months.is_rep,
    employee_months.month_start,
    employee_months.month_end,
    coalesce(states.team, 'Unassigned') as team,
    states.job_level,
    states.manager_employee_id,
    employee_months.hire_date < employee_months.month_start as is_employed_at_month_start,
    (employee_months.termination_date is null or employee_months.termination_date > employee_months.month_end)
        as is_employed_at_month_end,
    employee_months.hire_date >= employee_months.month_start as is_hired_in_month,
    employee_months.termination_date <= employee_months.month_end as is_exit_in_month,
    case when employee_months.termination_date <= employee_months.month_end
        then employee_months.termination_type end as exit_type,
    {{ months_between('employee_months.hire_date', 'employee_months.month_end') }} as tenure_months
from employee_months
left join {{ ref('int_employee_states') }} as states
    on employee_months.employee_id = states.employee_id
    and states.valid_from <= employee_months.team_as_of
    and (states.valid_to is null or states.valid_to > employee_months.team_as_of)
