select
    user_id,
    employee_id,
    name as user_name,
    email as user_email,
    team,
    region,
    manager_user_id,
    is_active
from {{ source('crm', 'users') }}
