{#
  Data-practice (FAIR) rules of a project, on dim_project's columns (docs/data-practices.md says why each).
  Each is a boolean expression, never null: an unknown counts as not met.
#}

{# Findable: a web address, a title and a description that people and search engines can find. #}
{% macro fair_findable(url, title, description) -%}
    ({{ url }} is not null and {{ title }} is not null and {{ description }} is not null)
{%- endmacro %}

{# Accessible: a data URL, or data that can be downloaded or viewed online. #}
{% macro fair_accessible(data_url, data_access) -%}
    ({{ data_url }} is not null or coalesce({{ data_access }} in ('download', 'view'), false))
{%- endmacro %}

{# Interoperable: described in the controlled vocabularies: a language, countries, and an SDG or a topic. #}
{% macro fair_interoperable(language, n_countries, n_sdgs, n_topics) -%}
    ({{ language }} is not null and coalesce({{ n_countries }}, 0) > 0
     and (coalesce({{ n_sdgs }}, 0) > 0 or coalesce({{ n_topics }}, 0) > 0))
{%- endmacro %}

{# Reusable: an open licence, or the project says researchers may reuse the data. #}
{% macro fair_reusable(licence_is_open, reusable_for_research) -%}
    (coalesce({{ licence_is_open }}, false) or coalesce({{ reusable_for_research }}, false))
{%- endmacro %}

{#
  Metadata completeness: the share (0..1) of the PPSR Core mandatory project attributes the warehouse can hold
  for which it holds a real value: projectName (title), projectAim (aim), projectDescription (description),
  projectStatus (status), projectStartDate (start_year), projectGeographicLocation (a country or coordinates),
  language (language), projectScienceType (a topic), projectResponsiblePartyName (lead_organisation).
  Not judged: identifiers and dates the export writes itself (projectId, projectDateCreated,
  projectLastUpdatedDate), projectDuration, and contact data, which never reaches marts.
#}
{% macro metadata_completeness(title, aim, description, status, start_year, n_countries, latitude, language, n_topics, lead_organisation) -%}
    round((
        ({{ title }} is not null)::int + ({{ aim }} is not null)::int + ({{ description }} is not null)::int
        + ({{ status }} is not null)::int + ({{ start_year }} is not null)::int
        + (coalesce({{ n_countries }}, 0) > 0 or {{ latitude }} is not null)::int
        + ({{ language }} is not null)::int + (coalesce({{ n_topics }}, 0) > 0)::int
        + ({{ lead_organisation }} is not null)::int
    ) / 9.0, 4)
{%- endmacro %}
