-- One row per account and owner period; valid_to is exclusive, null for the current owner.
select
    account_id,
    owner_user_id,
    valid_from,
    valid_to
from {{ source('crm', 'account_owner_history') }}
