-- Roles are cluster-wide: create them only when missing (several databases may share a server).
do $$
begin
    if not exists (select from pg_roles where rolname = 'cstrack_loader') then
        create role cstrack_loader nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'cstrack_transformer') then
        create role cstrack_transformer nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'cstrack_reporter') then
        create role cstrack_reporter nologin;
    end if;
end $$;

-- loader writes raw and ops; transformer reads raw and writes dbt's schemas; reporter reads marts only
grant usage, create on schema raw, ops to cstrack_loader;
grant select, insert, update on all tables in schema raw, ops to cstrack_loader;
grant usage, select on all sequences in schema ops to cstrack_loader;
alter default privileges in schema raw grant select, insert, update on tables to cstrack_loader;
alter default privileges in schema ops grant select, insert, update on tables to cstrack_loader;
grant usage on schema raw to cstrack_transformer;
grant select on all tables in schema raw to cstrack_transformer;
alter default privileges in schema raw grant select on tables to cstrack_transformer;
revoke all on schema raw, ops from public;
