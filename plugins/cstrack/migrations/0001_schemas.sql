-- Landing (raw) and operations (ops) schemas; dbt owns staging, intermediate, marts_build and marts.
create schema if not exists raw;
create schema if not exists ops;

-- One row per load of one file: the reconciliation invariant is rows_read = rows_loaded + rows_quarantined.
create table ops.load_run (
    load_id          bigserial primary key,
    source_kind      text not null,            -- catalogue | survey | social | crawl
    source_system    text not null,            -- the mapping's `source`
    source_file      text not null,
    content_hash     text not null,            -- sha256 of the file's bytes
    mapping_hash     text not null,            -- sha256 of the mapping/codebook that read it
    rows_read        integer,
    rows_loaded      integer,
    rows_quarantined integer,
    status           text not null check (status in ('running', 'succeeded', 'failed')),
    message          text,
    started_at       timestamptz not null default now(),
    finished_at      timestamptz,
    check (status <> 'succeeded' or rows_read = rows_loaded + rows_quarantined)
);
-- idempotency lookups: has this content been loaded by this mapping?
create index load_run_lookup on ops.load_run (source_kind, source_system, content_hash, mapping_hash)
    where status = 'succeeded';

create table ops.quarantine (
    quarantine_id  bigserial primary key,
    load_id        bigint not null references ops.load_run,
    source_file    text not null,
    source_row     integer,                    -- 1-based data row (header excluded), null for whole-file issues
    field          text,
    reason         text not null,
    raw_value      text,
    quarantined_at timestamptz not null default now()
);

-- values that a mapping's `map` or `parse` did not cover: kept in raw, counted here for analysts
create table ops.unmapped_values (
    load_id       bigint not null references ops.load_run,
    source_system text not null,
    field         text not null,
    value         text not null,
    n             integer not null,
    primary key (load_id, field, value)
);

create table raw.catalogue_record (
    _load_id         bigint not null references ops.load_run,
    _source          text not null,
    _source_row      integer not null,
    _loaded_at       timestamptz not null default now(),
    source_system    text not null,
    source_record_id text not null,
    record           jsonb not null,           -- canonical fields produced by the mapping
    pii              jsonb,                    -- fields the mapping marks `pii: true`: never leaves raw
    source_data      jsonb not null,           -- the row as read, for lineage and re-mapping
    primary key (_load_id, source_record_id)
);
create index catalogue_record_source on raw.catalogue_record (source_system, _load_id);

-- quality gate results (GX), one row per suite validation
create table ops.quality_result (
    result_id     bigserial primary key,
    suite         text not null,
    schema_name   text not null,
    success       boolean not null,
    evaluated     integer not null,
    failed        integer not null,
    critical_failed integer not null,
    summary       jsonb not null,
    validated_at  timestamptz not null default now()
);

create table ops.publish (
    publish_id   bigserial primary key,
    published_at timestamptz not null default now(),
    tables       jsonb not null                -- table -> row count at publish
);
