select
    employee_id,
    interview_date,
    primary_reason,
    secondary_reason,
    would_return
from {{ source('hr', 'exit_interviews') }}
