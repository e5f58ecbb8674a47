{#- The pseudonymous key analysts see instead of a person: md5 of a salt and the HR
    employee id. The salt comes from $REPRADAR_EMPLOYEE_KEY_SALT (var employee_key_salt). -#}
{% macro employee_key(employee_id_expr) -%}
    case when {{ employee_id_expr }} is not null then
        {{ dbt.hash(dbt.concat(["'" ~ var('employee_key_salt') ~ ":'", employee_id_expr])) }}
    end
{%- endmacro %}

{#- The pseudonymous key of a CRM user with no HR record (a rep the HR export does not
    know): md5 of the same salt, 'crm-user:' and the CRM user id, never equal to an
    employee_key. CRM user ids can be people's names or e-mails, so they are never shown. -#}
{% macro crm_user_key(user_id_expr) -%}
    case when {{ user_id_expr }} is not null then
        {{ dbt.hash(dbt.concat(["'" ~ var('employee_key_salt') ~ ":crm-user:'", user_id_expr])) }}
    end
{%- endmacro %}

{#- Divide, giving null instead of an error or infinity when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#- 1 when the condition holds, else 0, for sums over booleans on every engine. -#}
{% macro count_if(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as bigint)
{%- endmacro %}

{#- Money as the marts carry it: decimal(18, 2) on every engine. -#}
{% macro money(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}
