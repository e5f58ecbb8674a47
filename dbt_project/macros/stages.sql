{#- Position of a stage in the sales process: 1..n for the open stages in var
    funnel_stages, n+1 for the won stage, null for the lost stage and unknown stages. -#}
{% macro stage_order(stage_expr) -%}
    case {{ stage_expr }}
    {%- for stage in var('funnel_stages') %}
        when '{{ stage }}' then cast({{ loop.index }} as bigint)
    {%- endfor %}
        when '{{ var("won_stage") }}' then cast({{ var('funnel_stages') | length + 1 }} as bigint)
    end
{%- endmacro %}

{#- One row per stage of the process (open stages and the won stage), for joins. -#}
{% macro stage_rows() -%}
    {%- set stages = var('funnel_stages') + [var('won_stage')] -%}
    {%- for stage in stages %}
    select '{{ stage }}' as stage_name, cast({{ loop.index }} as bigint) as stage_order{% if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}
