-- RESTRICTED (HR flows only): resolves the pseudonymous employee_key to the person.
-- Names, e-mails and protected attributes live here and nowhere else downstream of staging.
select
    employees.employee_key,
    employees.employee_id,
    employees.employee_name,
    employees.employee_email,
    employees.job_title,
    employees.team,
    managers.employee_key as manager_employee_key,
    managers.employee_name as manager_name,
    managers.employee_email as manager_email,
    employees.hire_date,
    employees.termination_date,
    employees.gender,
    employees.birth_year
from {{ ref('stg_hr__employees') }} as employees
left join {{ ref('stg_hr__employees') }} as managers
    on employees.manager_employee_id = managers.employee_id
