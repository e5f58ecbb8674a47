-- One row per scoring run, rep and driver (the 3 largest contributions to the score).
select
    score_run_id,
    cast(month_end as date) as month_end,
    employee_key,
    cast({{ adapter.quote('rank') }} as bigint) as driver_rank,
    feature as feature_name,
    cast({{ adapter.quote('value') }} as double) as feature_value,
    cast(contribution as double) as contribution,
    driver
from {{ source('ml', 'rep_risk_drivers') }}
