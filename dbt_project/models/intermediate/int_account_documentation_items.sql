-- Everything on an account that should be documented: each opportunity (documented when
-- an activity on it is logged within the documentation window of its creation) and each
-- meeting (documented when it is logged within the window of taking place).
with opportunity_logs as (
    select
        opportunities.opportunity_id,
        min(activities.logged_on) as first_logged_on
    from {{ ref('stg_crm__opportunities') }} as opportunities
    inner join {{ ref('stg_crm__activities') }} as activities
        on opportunities.opportunity_id = activities.opportunity_id
        and activities.logged_on >= opportunities.created_on
        and activities.logged_on <= {{ add_days('opportunities.created_on', var('documentation_window_days')) }}
    group by opportunities.opportunity_id
)

select
    opportunities.account_id,
    'opportunity' as item_type,
    opportunities.opportunity_id as item_id,
    opportunities.created_on as item_date,
    opportunity_logs.first_logged_on as documented_on
from {{ ref('stg_crm__opportunities') }} as opportunities
left join opportunity_logs on opportunities.opportunity_id = opportunity_logs.opportunity_id

union all

select
    account_id,
    'meeting' as item_type,
    activity_id as item_id,
    occurred_on as item_date,
    case
        when logged_on <= {{ add_days('occurred_on', var('documentation_window_days')) }} then logged_on
    end as documented_on
from {{ ref('stg_crm__activities') }}
where activity_type = 'meeting'
