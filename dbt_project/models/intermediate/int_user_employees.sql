-- CRM users resolved to HR employees and their pseudonymous key. rep_key is the key the
-- user's deals and scorecard are reported under: the employee_key of their HR record, or,
-- for a user the HR export does not know, the pseudonym of the CRM user id.
select
    users.user_id,
    users.employee_id,
    employees.employee_key,
    coalesce(employees.employee_key, user_keys.pseudonym) as rep_key,
    employees.employee_id is not null as has_hr_record,
    users.team as crm_team
from {{ ref('stg_crm__users') }} as users
left join {{ ref('stg_hr__employees') }} as employees
    on users.employee_id = employees.employee_id
left join {{ ref('stg_pseudonyms__keys') }} as user_keys
    on user_keys.kind = 'crm-user' and user_keys.source_id = users.user_id
