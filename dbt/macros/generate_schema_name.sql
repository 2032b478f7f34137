{# Custom schemas verbatim (staging, marts_build, ...), not prefixed with the target schema.
   An analyst's run (`cstrack dbt`, CSTRACK_DEV_SCHEMA=dev_<name>) builds each into its own copy, dev_<name>_<schema>,
   so it never writes what the warehouse builds and publishes. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = custom_schema_name | trim if custom_schema_name else target.schema -%}
    {%- set dev = env_var('CSTRACK_DEV_SCHEMA', '') -%}
    {{ dev ~ '_' ~ schema if dev else schema }}
{%- endmacro %}
