select
    employee_id,
    effective_date,
    change_type,
    job_level,
    team,
    manager_employee_id
from {{ source('hr', 'job_history') }}
