-- Account owner periods resolved to employees, with the next owner. valid_to is
-- exclusive and null for the current owner.
select
    periods.account_id,
    periods.owner_user_id,
    users.employee_id as owner_employee_id,
    users.employee_key as owner_employee_key,
    periods.valid_from,
    periods.valid_to,
    lead(periods.owner_user_id) over (partition by periods.account_id order by periods.valid_from)
        as next_owner_user_id
from {{ ref('stg_crm__account_owner_periods') }} as periods
left join {{ ref('int_user_employees') }} as users on periods.owner_user_id = users.user_id
