{#- On Spark, (re)register every source table in schema raw as an external Parquet table
    over var raw_parquet_dir/<table> (written by `repradar transform --target spark`).
    drop + create picks up new files and schemas; dropping an external table keeps its
    files. A no-op on other engines. -#}
{% macro register_raw_sources() -%}
    {%- if target.type == 'spark' and execute and var('raw_parquet_dir') -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for node in graph.sources.values() if node.schema == 'raw' -%}
            {%- do run_query('drop table if exists raw.' ~ node.identifier) -%}
            {%- do run_query("create table raw." ~ node.identifier ~ " using parquet location '"
                             ~ var('raw_parquet_dir') ~ "/" ~ node.identifier ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
