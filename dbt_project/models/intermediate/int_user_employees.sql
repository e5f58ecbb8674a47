-- CRM users resolved to HR employees and their pseudonymous key.
select
    users.user_id,
    users.employee_id,
    employees.employee_key,
    users.team as crm_team
from {{ ref('stg_crm__users') }} as users
left join {{ ref('stg_hr__employees') }} as employees
    on users.employee_id = employees.employee_id
