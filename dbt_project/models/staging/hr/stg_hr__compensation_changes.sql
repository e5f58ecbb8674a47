select
    employee_id,
    effective_date,
    base_salary,
    variable_target,
    band_midpoint,
    currency
from {{ source('hr', 'compensation') }}
