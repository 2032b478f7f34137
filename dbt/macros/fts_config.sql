{# The PostgreSQL text-search configuration for an ISO 639-1 language code ('simple' when none fits). #}
{% macro fts_config(language) -%}
    (case {{ language }}
        when 'en' then 'english' when 'de' then 'german' when 'es' then 'spanish' when 'fr' then 'french'
        when 'nl' then 'dutch' when 'it' then 'italian' when 'pt' then 'portuguese' when 'sv' then 'swedish'
        when 'da' then 'danish' when 'fi' then 'finnish' when 'no' then 'norwegian' when 'hu' then 'hungarian'
        when 'ro' then 'romanian' when 'ru' then 'russian' when 'tr' then 'turkish' when 'el' then 'greek'
        else 'simple'
    end)::regconfig
{%- endmacro %}
