select
    account_id,
    name as account_name,
    industry,
    segment,
    region,
    owner_user_id,
    created_at as created_on,
    coalesce(is_key_account, false) as is_key_account
from {{ source('crm', 'accounts') }}
