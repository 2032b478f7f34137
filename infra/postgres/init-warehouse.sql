-- Roles and database of the warehouse; run once by init-warehouse.sh when the data volume is empty.
-- Passwords arrive as psql variables from the environment (.env), never from this file.
\set ON_ERROR_STOP on

-- owner of the warehouse database: Airflow's tasks run migrations, loads, dbt and the publish as it
create role cstrack login password :'cstrack_password';
-- group roles of docs/design-notes.md §5 (the migrations grant their privileges; creating them here is harmless)
create role cstrack_loader nologin;
create role cstrack_transformer nologin;
grant cstrack_loader, cstrack_transformer to cstrack;
-- what Metabase and the report log in as: SELECT on `marts` only (granted by every dbt build/publish)
create role cstrack_reporter login password :'reporter_password';
alter role cstrack_reporter set default_transaction_read_only = on;
alter role cstrack_reporter set statement_timeout = '120s';

create database cstrack owner cstrack;
revoke all on database cstrack from public;
grant connect on database cstrack to cstrack, cstrack_reporter;

\connect cstrack
revoke all on schema public from public;
