{#- Continuous (interpolated) percentile of expr, p in [0, 1]: the median of 1, 2, 3, 4
    is 2.5 on every engine, like pandas' Series.quantile. -#}
{% macro percentile(expr, p) -%}
    {{ return(adapter.dispatch('percentile', 'repradar')(expr, p)) }}
{%- endmacro %}

{% macro default__percentile(expr, p) -%}
    percentile_cont({{ p }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__percentile(expr, p) -%}
    quantile_cont({{ expr }}, {{ p }})
{%- endmacro %}

{% macro spark__percentile(expr, p) -%}
    percentile({{ expr }}, {{ p }})
{%- endmacro %}
