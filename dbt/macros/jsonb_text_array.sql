{# A jsonb value as text[]: arrays element-wise, a scalar as a one-element array, null as empty. #}
{% macro jsonb_text_array(expression) -%}
    case jsonb_typeof({{ expression }})
        when 'array' then array(select jsonb_array_elements_text({{ expression }}))
        when 'string' then array[{{ expression }} #>> '{}']
        else array[]::text[]
    end
{%- endmacro %}
