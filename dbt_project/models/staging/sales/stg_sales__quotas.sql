select
    employee_id,
    period_start,
    period_end,
    quota_amount
from {{ source('sales', 'quotas') }}
