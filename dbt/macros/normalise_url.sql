{# A URL as a merge key: no scheme, no `www.`, lower case, no fragment, no trailing slash, and no tracking
   parameters (utm_*, fbclid, gclid, mc_cid, mc_eid); other query parameters keep their order.
   Null when the value does not look like a web address (no dot in the host). #}
{% macro normalise_url(expression) -%}
    (
        select case when split_part(u.host_path, '/', 1) like '%.%' then
            rtrim(u.host_path, '/') || coalesce('?' || (
                select string_agg(p.param, '&' order by p.ord)
                from unnest(string_to_array(u.query, '&')) with ordinality as p(param, ord)
                where p.param <> '' and p.param !~ '^(utm_[a-z_]*|fbclid|gclid|mc_cid|mc_eid)(=|$)'
            ), '')
        end
        from (
            select
                split_part(n.url, '?', 1) as host_path,
                nullif(split_part(n.url, '?', 2), '') as query
            from (
                select regexp_replace(regexp_replace(regexp_replace(
                    lower(btrim({{ expression }})),
                    '#.*$', ''),                       -- fragment
                    '^[a-z][a-z0-9+.-]*://', ''),      -- scheme
                    '^www[0-9]*\.', '') as url         -- www., www2.
            ) as n
        ) as u
    )
{%- endmacro %}
