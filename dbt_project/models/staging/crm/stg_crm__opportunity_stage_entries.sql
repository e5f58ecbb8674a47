select
    opportunity_id,
    stage as stage_name,
    {{ stage_order('stage') }} as stage_order,
    stage = '{{ var("won_stage") }}' as is_won_stage,
    stage = '{{ var("lost_stage") }}' as is_lost_stage,
    entered_at as entered_on
from {{ source('crm', 'opportunity_stage_history') }}
