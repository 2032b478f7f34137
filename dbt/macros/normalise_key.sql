{# The loader's normalise_key in SQL: trimmed, inner whitespace collapsed, case-folded. #}
{% macro normalise_key(expression) -%}
    lower(regexp_replace(btrim({{ expression }}, E' \t\r\n'), '\s+', ' ', 'g'))
{%- endmacro %}
