-- RESTRICTED (HR flows only): for every rep in the High band of the latest scoring run,
-- the accounts they own, ranked by exposure (handover_rank 1 = hand over first), with the
-- suggested successor from mart_rep_risk and the main reason to act (def_handover_reason).
with high_risk_reps as (
    select * from {{ ref('mart_rep_risk') }}
    where band = 'High'
),

run_accounts as (
    select accounts.*
    from {{ ref('stg_ml__account_loss_scores') }} as accounts
    inner join (select distinct score_run_id from {{ ref('int_latest_risk_scores') }}) as latest_run
        on accounts.score_run_id = latest_run.score_run_id
),

-- "high revenue": in the top 20% of all accounts scored in the run by trailing revenue
revenue_cutoff as (
    select {{ percentile('revenue_12m', 0.8) }} as high_revenue_12m
    from run_accounts
),

worklist as (
    select
        reps.employee_key,
        reps.employee_name,
        reps.team,
        accounts.account_id,
        accounts.segment,
        accounts.is_key_account,
        accounts.is_single_threaded,
        accounts.documentation_completeness,
        accounts.revenue_12m,
        accounts.loss_probability,
        accounts.exposure,
        row_number() over (
            partition by reps.employee_key
            order by coalesce(accounts.exposure, 0) desc, coalesce(accounts.revenue_12m, 0) desc, accounts.account_id
        ) as handover_rank,
        reps.suggested_successor_employee_key,
        reps.suggested_successor_name,
        case
            when accounts.is_single_threaded and accounts.is_key_account then 'single-threaded key account'
            when accounts.is_single_threaded then 'single-threaded'
            when accounts.documentation_completeness < 0.5 then 'poorly documented'
            when accounts.revenue_12m > 0 and accounts.revenue_12m >= revenue_cutoff.high_revenue_12m
                then 'high revenue'
            when accounts.is_key_account then 'key account'
            else 'owner at high risk'
        end as reason,
        reps.score_run_id
    from high_risk_reps as reps
    inner join run_accounts as accounts
        on reps.employee_key = accounts.owner_employee_key
    cross join revenue_cutoff
)

select
    employee_key,
    employee_name,
    team,
    account_id,
    segment,
    is_key_account,
    is_single_threaded,
    documentation_completeness,
    {{ money('revenue_12m') }} as revenue_12m,
    loss_probability,
    {{ money('exposure') }} as exposure,
    cast(handover_rank as bigint) as handover_rank,
    suggested_successor_employee_key,
    suggested_successor_name,
    reason,
    score_run_id
from worklist
