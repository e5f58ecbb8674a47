-- The HR employees with their pseudonym (HMAC of the employee id under the secret key,
-- written by repradar into `pseudonyms.keys` before the build: never computed here).
select
    employees.employee_id,
    keys.pseudonym as employee_key,
    employees.name as employee_name,
    employees.email as employee_email,
    employees.hire_date,
    employees.termination_date,
    lower(employees.termination_type) as termination_type,
    employees.termination_reason,
    employees.job_title,
    employees.job_level,
    employees.team,
    employees.manager_employee_id,
    employees.location,
    employees.gender,
    employees.birth_year
from {{ source('hr', 'employees') }} as employees
left join {{ ref('stg_pseudonyms__keys') }} as keys
    on keys.kind = 'employee' and keys.source_id = employees.employee_id
