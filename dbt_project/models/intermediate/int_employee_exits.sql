-- One row per employee who left: voluntary or involuntary, the stated reason, and whether
-- the exit is regretted (voluntary, and the person's last rating before leaving was 4 or
-- more, or their bookings over the 12 months before leaving were at least their quota).
with last_ratings as (
    select employee_id, rating as last_rating
    from (
        select
            reviews.employee_id,
            reviews.rating,
            row_number() over (partition by reviews.employee_id order by reviews.review_date desc) as recency
        from {{ ref('stg_hr__performance_reviews') }} as reviews
        inner join {{ ref('stg_hr__employees') }} as employees
            on reviews.employee_id = employees.employee_id
        where reviews.review_date <= employees.termination_date
    ) as ordered
    where recency = 1
),

trailing_attainment as (
    select
        rep_months.employee_id,
        {{ safe_divide('sum(rep_months.bookings)', 'sum(rep_months.quota_amount)') }} as attainment_trailing_12m
    from {{ ref('int_rep_months') }} as rep_months
    inner join {{ ref('stg_hr__employees') }} as employees
        on rep_months.employee_id = employees.employee_id
    where rep_months.month_start > {{ add_months('employees.termination_date', -12) }}
        and rep_months.month_start <= employees.termination_date
    group by rep_months.employee_id
)

select
    employees.employee_id,
    employees.employee_key,
    employees.termination_date,
    employees.termination_type,
    coalesce(interviews.primary_reason, employees.termination_reason, 'Not recorded') as exit_reason,
    interviews.would_return,
    last_ratings.last_rating,
    trailing_attainment.attainment_trailing_12m,
    coalesce(
        employees.termination_type = 'voluntary'
        and (last_ratings.last_rating >= 4 or trailing_attainment.attainment_trailing_12m >= 1.0),
        false
    ) as is_regretted
from {{ ref('stg_hr__employees') }} as employees
left join {{ ref('stg_hr__exit_interviews') }} as interviews on employees.employee_id = interviews.employee_id
left join last_ratings on employees.employee_id = last_ratings.employee_id
left join trailing_attainment on employees.employee_id = trailing_attainment.employee_id
where employees.termination_date is not null
