-- One row per opportunity: where it got to, how it ended, how long it took, and the
-- owner (pseudonymous), team and segment it is reported under. Every deal is kept; the
-- is_*_unknown flags say which of its values the CRM left empty (a deal with no account,
-- never engaged, still open without a close date or an amount).
with opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

furthest as (
    select opportunity_id, max(stage_order) as furthest_stage_order
    from {{ ref('int_opportunity_stages_reached') }}
    group by opportunity_id
),

owners as (
    select
        opportunities.opportunity_id,
        users.employee_id,
        users.rep_key,
        coalesce(states.team, users.crm_team, 'Unassigned') as team
    from opportunities
    left join {{ ref('int_user_employees') }} as users
        on opportunities.owner_user_id = users.user_id
    left join {{ ref('int_employee_states') }} as states
        on users.employee_id = states.employee_id
        and states.valid_from <= opportunities.created_on
        and (states.valid_to is null or states.valid_to > opportunities.created_on)
),

stages as (
    {{ stage_rows() }}
)

select
    opportunities.opportunity_id,
    opportunities.account_id,
    owners.rep_key as owner_employee_key,
    owners.team,
    coalesce(accounts.segment, 'Unknown') as segment,
    coalesce(accounts.is_key_account, false) as is_key_account,
    coalesce(opportunities.lead_source, 'Unknown') as lead_source,
    opportunities.created_on,
    {{ month_start('opportunities.created_on') }} as created_month,
    opportunities.close_date,
    case when opportunities.is_closed then {{ month_start('opportunities.close_date') }} end as close_month,
    opportunities.current_stage,
    stages.stage_name as furthest_stage,
    furthest.furthest_stage_order,
    opportunities.is_closed,
    opportunities.is_closed and opportunities.is_won as is_won,
    opportunities.is_closed and not opportunities.is_won as is_lost,
    opportunities.amount,
    opportunities.currency,
    case when opportunities.is_closed and opportunities.close_date >= opportunities.created_on
        then {{ days_between('opportunities.created_on', 'opportunities.close_date') }}
    end as cycle_days,
    opportunities.account_id is null as is_account_unknown,
    opportunities.created_on is null as is_created_on_unknown,
    opportunities.close_date is null as is_close_date_unknown,
    opportunities.amount is null as is_amount_unknown,
    coalesce(opportunities.close_date < opportunities.created_on, false) as is_created_after_close
from opportunities
left join owners on opportunities.opportunity_id = owners.opportunity_id
left join {{ ref('stg_crm__accounts') }} as accounts on opportunities.account_id = accounts.account_id
left join furthest on opportunities.opportunity_id = furthest.opportunity_id
left join stages on furthest.furthest_stage_order = stages.stage_order
