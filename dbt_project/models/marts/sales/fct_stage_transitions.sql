-- One row per entry of an opportunity into a stage (including the lost stage), in order
-- (entry_number): a deal that goes back to a stage has a row per visit. How long it
-- stayed, which stage came next and whether that was a step forward.
with entries as (
    select
        opportunity_id,
        stage_name,
        stage_order,
        is_won_stage,
        is_lost_stage,
        entered_on,
        row_number() over (
            partition by opportunity_id
            order by entered_on, case when is_lost_stage then 99 else coalesce(stage_order, 98) end
        ) as entry_number
    from {{ ref('stg_crm__opportunity_stage_entries') }}
),

sequenced as (
    select
        current_entry.*,
        next_entry.stage_name as next_stage,
        next_entry.stage_order as next_stage_order,
        next_entry.is_lost_stage as next_is_lost_stage,
        next_entry.entered_on as next_entered_on
    from entries as current_entry
    left join entries as next_entry
        on current_entry.opportunity_id = next_entry.opportunity_id
        and next_entry.entry_number = current_entry.entry_number + 1
)

select
    {{ dbt.hash(dbt.concat(['sequenced.opportunity_id', "'|'", "cast(sequenced.entry_number as " ~ dbt.type_string() ~ ")"])) }} as stage_transition_id,
    sequenced.opportunity_id,
    opportunities.owner_employee_key,
    opportunities.team,
    opportunities.segment,
    sequenced.stage_name,
    sequenced.stage_order,
    cast(sequenced.entry_number as bigint) as entry_number,
    sequenced.entered_on,
    {{ month_start('sequenced.entered_on') }} as entered_month,
    sequenced.next_stage,
    sequenced.next_entered_on,
    {{ days_between('sequenced.entered_on', 'sequenced.next_entered_on') }} as days_in_stage,
    coalesce(sequenced.next_stage_order > sequenced.stage_order and not sequenced.next_is_lost_stage, false)
        as advanced,
    sequenced.next_stage is null and not (sequenced.is_won_stage or sequenced.is_lost_stage) as is_current_stage,
    sequenced.is_won_stage or sequenced.is_lost_stage as is_terminal_stage
from sequenced
inner join {{ ref('fct_opportunities') }} as opportunities
    on sequenced.opportunity_id = opportunities.opportunity_id
