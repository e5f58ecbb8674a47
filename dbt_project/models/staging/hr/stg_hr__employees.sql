select
    employee_id,
    {{ employee_key('employee_id') }} as employee_key,
    name as employee_name,
    email as employee_email,
    hire_date,
    termination_date,
    lower(termination_type) as termination_type,
    termination_reason,
    job_title,
    job_level,
    team,
    manager_employee_id,
    location,
    gender,
    birth_year
from {{ source('hr', 'employees') }}
