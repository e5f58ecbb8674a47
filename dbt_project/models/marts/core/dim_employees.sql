-- One row per employee, pseudonymous: no names, e-mails or protected attributes.
select
    employees.employee_key,
    employees.team,
    employees.job_title,
    employees.job_level,
    employees.is_rep,
    {{ month_start('employees.hire_date') }} as hire_month,
    {{ month_start('employees.termination_date') }} as exit_month,
    employees.termination_type,
    employees.termination_date is null
        or employees.termination_date > (select as_of_date from {{ ref('int_reporting_dates') }}) as is_active,
    managers.employee_key as manager_employee_key
from {{ ref('int_employees') }} as employees
left join {{ ref('stg_hr__employees') }} as people on employees.employee_id = people.employee_id
left join {{ ref('stg_hr__employees') }} as managers on people.manager_employee_id = managers.employee_id
