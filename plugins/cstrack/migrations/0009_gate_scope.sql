-- Incremental builds (issue #8): what the quality gates look at. publish.build sets since_commit_seq
-- before the gates run: 0 for a full build (every row), else the newest load commit the build schema
-- already holds. The scoped GX assets (expectations/gx) read raw rows of loads committed after it, and
-- the incremental marts' rows changed after it; one row, always.
create table ops.gate_scope (
    since_commit_seq bigint not null default 0,
    one_row boolean primary key default true check (one_row)
);
insert into ops.gate_scope default values;
grant select on ops.gate_scope to cstrack_transformer;
