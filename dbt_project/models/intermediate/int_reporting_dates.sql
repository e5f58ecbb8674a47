{{ config(materialized='table') }}
-- One row: the day the exports describe (as_of_date), the first reporting month and the
-- last complete month. Marts never report past as_of_date.
with event_dates as (
    select max(entered_on) as event_date from {{ ref('stg_crm__opportunity_stage_entries') }}
    union all
    select max(created_on) from {{ ref('stg_crm__opportunities') }}
    union all
    select max(occurred_on) from {{ ref('stg_crm__activities') }}
    union all
    select max(effective_date) from {{ ref('stg_hr__job_changes') }}
    union all
    select max(survey_date) from {{ ref('stg_hr__engagement_surveys') }}
),

start_candidates as (
    select 1 as priority, min(period_start) as start_date from {{ ref('stg_sales__quotas') }}
    union all
    select 2, min(created_on) from {{ ref('stg_crm__opportunities') }}
    union all
    select 3, min(effective_date) from {{ ref('stg_hr__job_changes') }}
),

chosen as (
    select
        {% if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
        (select max(event_date) from event_dates)
        {%- endif %} as as_of_date,
        {% if var('reporting_start') -%}
        cast('{{ var("reporting_start") }}' as date)
        {%- else -%}
        (select min(start_date) from start_candidates
         where priority = (select min(priority) from start_candidates where start_date is not null))
        {%- endif %} as reporting_start_date
)

select
    as_of_date,
    {{ month_start('reporting_start_date') }} as reporting_start_month,
    case
        when as_of_date = {{ month_end('as_of_date') }} then as_of_date
        else {{ add_days(month_start('as_of_date'), -1) }}
    end as last_complete_month_end
from chosen
