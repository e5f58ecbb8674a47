-- When each opportunity was open: from creation to the day it entered a closed stage
-- (or its close date when the history has no closed stage). closed_on is null while open.
with closing_entries as (
    select opportunity_id, min(entered_on) as closed_on
    from {{ ref('stg_crm__opportunity_stage_entries') }}
    where is_won_stage or is_lost_stage
    group by opportunity_id
)

select
    opportunities.opportunity_id,
    opportunities.account_id,
    opportunities.owner_user_id,
    opportunities.amount,
    opportunities.created_on,
    coalesce(
        closing_entries.closed_on,
        case when opportunities.is_closed then opportunities.close_date end
    ) as closed_on
from {{ ref('stg_crm__opportunities') }} as opportunities
left join closing_entries on opportunities.opportunity_id = closing_entries.opportunity_id
