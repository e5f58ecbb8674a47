select
    account_id,
    name as account_name,
    coalesce(industry, 'Unknown') as industry,
    coalesce(segment, 'Unknown') as segment,
    coalesce(region, 'Unknown') as region,
    owner_user_id,
    created_at as created_on,
    coalesce(is_key_account, false) as is_key_account
from {{ source('crm', 'accounts') }}
