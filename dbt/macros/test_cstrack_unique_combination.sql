{# Rows whose combination of `columns` is not unique (dbt_utils' test, written here: no `dbt deps`). #}
{% test cstrack_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
