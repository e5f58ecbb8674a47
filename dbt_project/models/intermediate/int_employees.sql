-- One row per employee with whether they carry a quota or own deals (a sales rep), and
-- since when.
with quota_carriers as (
    select employee_id, min(period_start) as first_quota_on
    from {{ ref('stg_sales__quotas') }}
    group by employee_id
),

deal_owners as (
    select users.employee_id, min(opportunities.created_on) as first_deal_on
    from {{ ref('stg_crm__opportunities') }} as opportunities
    inner join {{ ref('int_user_employees') }} as users
        on opportunities.owner_user_id = users.user_id
    where users.employee_id is not null
    group by users.employee_id
)

select
    employees.employee_id,
    employees.employee_key,
    employees.hire_date,
    employees.termination_date,
    employees.termination_type,
    employees.termination_reason,
    employees.job_title,
    employees.job_level,
    employees.team,
    (quota_carriers.employee_id is not null or deal_owners.employee_id is not null) as is_rep,
    quota_carriers.employee_id is not null as is_quota_carrying,
    -- the first day the data shows them selling: a quota period or a deal they own
    case
        when quota_carriers.first_quota_on is null then deal_owners.first_deal_on
        when deal_owners.first_deal_on is null then quota_carriers.first_quota_on
        when quota_carriers.first_quota_on < deal_owners.first_deal_on then quota_carriers.first_quota_on
        else deal_owners.first_deal_on
    end as selling_since
from {{ ref('stg_hr__employees') }} as employees
left join quota_carriers on employees.employee_id = quota_carriers.employee_id
left join deal_owners on employees.employee_id = deal_owners.employee_id
