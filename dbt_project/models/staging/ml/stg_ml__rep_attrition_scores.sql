-- One row per scoring run and rep: P(voluntary exit within 1, 3, 6 and 12 months), the
-- probability at the horizon shown with its band and change against the previous score,
-- and the revenue that rides on the rep.
select
    score_run_id,
    model_run_id,
    cast(month_end as date) as month_end,
    employee_key,
    team,
    cast(probability as double) as probability,
    band,
    cast(previous_probability as double) as previous_probability,
    -- all null in a first run, when the writer may create the column untyped
    cast(previous_band as {{ dbt.type_string() }}) as previous_band,
    cast(probability_change as double) as probability_change,
    band_change,
    cast(accounts as bigint) as accounts,
    cast(book_revenue_12m as double) as book_revenue_12m,
    cast(revenue_lost_if_leaves as double) as revenue_lost_if_leaves,
    cast(revenue_at_risk as double) as revenue_at_risk,
    cast(horizon_months as bigint) as horizon_months,
    cast(probability_1m as double) as probability_1m,
    cast(probability_3m as double) as probability_3m,
    cast(probability_6m as double) as probability_6m,
    cast(probability_12m as double) as probability_12m
from {{ source('ml', 'rep_attrition_scores') }}
