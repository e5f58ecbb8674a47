select
    activity_id,
    account_id,
    opportunity_id,
    owner_user_id,
    activity_type,
    occurred_at,
    logged_at,
    cast(occurred_at as date) as occurred_on,
    cast(logged_at as date) as logged_on
from {{ source('crm', 'activities') }}
