{{ config(materialized='table') }}
-- One row per opportunity and process stage it reached. A stage counts as reached when
-- the opportunity entered it or any later stage; a skipped stage is taken as entered (and
-- passed) on the day the opportunity entered the next stage it did record. `advanced` is
-- true when the opportunity later reached any later stage (the won stage after the last
-- open stage); entering the lost stage is not advancing.
with entries as (
    select opportunity_id, stage_order, entered_on
    from {{ ref('stg_crm__opportunity_stage_entries') }}
    where stage_order is not null
),

furthest as (
    select opportunity_id, max(stage_order) as furthest_stage_order
    from entries
    group by opportunity_id
),

stages as (
    {{ stage_rows() }}
),

reached as (
    select
        furthest.opportunity_id,
        stages.stage_name,
        stages.stage_order,
        furthest.furthest_stage_order
    from furthest
    inner join stages on stages.stage_order <= furthest.furthest_stage_order
),

entered as (
    select
        reached.opportunity_id,
        reached.stage_name,
        reached.stage_order,
        reached.furthest_stage_order,
        min(case when entries.stage_order = reached.stage_order then entries.entered_on end) as recorded_entered_on,
        min(entries.entered_on) as first_entry_at_or_after
    from reached
    inner join entries
        on reached.opportunity_id = entries.opportunity_id
        and entries.stage_order >= reached.stage_order
    group by reached.opportunity_id, reached.stage_name, reached.stage_order, reached.furthest_stage_order
)

select
    opportunity_id,
    stage_name,
    stage_order,
    coalesce(recorded_entered_on, first_entry_at_or_after) as entered_on,
    recorded_entered_on is null as is_skipped,
    furthest_stage_order > stage_order as advanced
from entered
