select
    opportunity_id,
    account_id,
    owner_user_id,
    created_at as created_on,
    close_date,
    stage as current_stage,
    is_closed,
    is_won,
    {{ money('amount') }} as amount,
    currency,
    lead_source
from {{ source('crm', 'opportunities') }}
