{#- On Spark, (re)register every source table in schemas raw and pseudonyms as an external
    Parquet table over var raw_parquet_dir/<table> (raw) or raw_parquet_dir/pseudonyms.<table>
    (written by `repradar transform --target spark`). drop + create picks up new files and
    schemas; dropping an external table keeps its files. A no-op on other engines. -#}
{% macro register_raw_sources() -%}
    {%- if target.type == 'spark' and execute and var('raw_parquet_dir') -%}
        {%- for schema in ['raw', 'pseudonyms'] -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
            {%- for node in graph.sources.values() if node.schema == schema -%}
                {%- set folder = node.identifier if schema == 'raw' else schema ~ '.' ~ node.identifier -%}
                {%- do run_query('drop table if exists ' ~ schema ~ '.' ~ node.identifier) -%}
                {%- do run_query("create table " ~ schema ~ "." ~ node.identifier ~ " using parquet location '"
                                 ~ var('raw_parquet_dir') ~ "/" ~ folder ~ "'") -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
