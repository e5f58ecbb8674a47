select
    account_id,
    user_id,
    role as team_role,
    start_date,
    end_date
from {{ source('crm', 'account_team') }}
