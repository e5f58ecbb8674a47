-- One row per account handed to a new owner because the previous owner left.
select
    handover_id,
    account_id,
    departed_employee_key,
    successor_employee_key,
    case when is_voluntary_departure then 'voluntary departure' else 'involuntary departure' end as reason,
    departed_on,
    handover_on,
    handover_delay_days,
    segment,
    is_key_account,
    is_single_threaded,
    documentation_completeness,
    revenue_12m_before,
    revenue_12m_after,
    won_deals_12m_after,
    is_outcome_final,
    retained_12m,
    case
        when retained_12m then 'retained'
        when not retained_12m then 'lost'
        else 'pending'
    end as outcome
from {{ ref('int_handover_features') }}
where handover_on is not null
