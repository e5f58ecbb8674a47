-- One row per scoring run and account owned by a scored rep: P(account lost | owner
-- leaves) and what that puts at risk.
select
    score_run_id,
    account_id,
    employee_key as owner_employee_key,
    team as owner_team,
    segment,
    cast(is_key_account as boolean) as is_key_account,
    cast(is_single_threaded as boolean) as is_single_threaded,
    cast(documentation_completeness as double) as documentation_completeness,
    cast(revenue_12m as double) as revenue_12m,
    cast(loss_probability as double) as loss_probability,
    method as loss_method,
    cast(revenue_lost_if_owner_leaves as double) as revenue_lost_if_owner_leaves,
    cast(exposure as double) as exposure
from {{ source('ml', 'account_loss_scores') }}
