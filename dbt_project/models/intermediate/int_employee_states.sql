-- Team, job level and manager of each employee over time: one row per period, valid from
-- valid_from up to (not including) valid_to, null for the latest. The first period starts
-- at hire even when the first recorded change is later; people without job history get
-- one period with their current HR record. Several changes on one day (a promotion and a
-- transfer) collapse to the state after all of them, applied in the order hire,
-- promotion, transfer, manager change.
with ordered_changes as (
    select
        employee_id,
        effective_date,
        job_level,
        team,
        manager_employee_id,
        row_number() over (
            partition by employee_id, effective_date
            order by case change_type
                when 'hire' then 1 when 'promotion' then 2 when 'transfer' then 3
                when 'manager_change' then 4 else 5 end desc
        ) as reverse_order_in_day
    from {{ ref('stg_hr__job_changes') }}
    where change_type <> 'termination'
),

changes as (
    select employee_id, effective_date, job_level, team, manager_employee_id
    from ordered_changes
    where reverse_order_in_day = 1
),

with_history as (
    select
        changes.employee_id,
        case
            when row_number() over (partition by changes.employee_id order by changes.effective_date) = 1
                then least(changes.effective_date, employees.hire_date)
            else changes.effective_date
        end as valid_from,
        lead(changes.effective_date) over (
            partition by changes.employee_id order by changes.effective_date
        ) as valid_to,
        coalesce(changes.job_level, employees.job_level) as job_level,
        coalesce(changes.team, employees.team) as team,
        changes.manager_employee_id
    from changes
    inner join {{ ref('stg_hr__employees') }} as employees
        on changes.employee_id = employees.employee_id
),

without_history as (
    select
        employee_id,
        hire_date as valid_from,
        cast(null as date) as valid_to,
        job_level,
        team,
        manager_employee_id
    from {{ ref('stg_hr__employees') }}
    where employee_id not in (select employee_id from changes)
)

select * from with_history
union all
select * from without_history
