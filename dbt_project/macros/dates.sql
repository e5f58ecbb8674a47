{#- Date helpers over dbt's cross-database macros. Each returns a DATE on every engine
    (DuckDB's interval arithmetic and Spark's date_trunc both return timestamps). -#}

{% macro month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}

{% macro month_end(expr) -%}
    cast({{ dbt.last_day(expr, 'month') }} as date)
{%- endmacro %}

{% macro add_days(expr, days) -%}
    cast({{ dbt.dateadd('day', days, expr) }} as date)
{%- endmacro %}

{% macro add_months(expr, months) -%}
    cast({{ dbt.dateadd('month', months, expr) }} as date)
{%- endmacro %}

{% macro days_between(start_expr, end_expr) -%}
    cast({{ dbt.datediff(start_expr, end_expr, 'day') }} as bigint)
{%- endmacro %}

{#- Calendar months from start to end (Jan 31 -> Apr 30 is 3). Not dbt.datediff: on
    Spark it counts Jan 31 -> Feb 29 as 2 months. -#}
{% macro months_between(start_expr, end_expr) -%}
    cast((year({{ end_expr }}) * 12 + month({{ end_expr }}))
        - (year({{ start_expr }}) * 12 + month({{ start_expr }})) as bigint)
{%- endmacro %}
