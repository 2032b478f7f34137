-- Social posts land first, then are enriched (issue #17). A social load commits its rows without a commit_seq
-- (builds do not see it yet) and the months of posted_at its posts fall in, one row each here. Enrichment
-- (cstrack.ingest.social.enrich) adds language, sentiment and SDGs to one month of posts at a time and marks
-- the month enriched in the same transaction; a load whose months are all enriched then gets its commit_seq.
create table ops.social_enrichment (
    load_id       bigint not null references ops.load_run,
    month         date not null,               -- first day of a UTC month of posted_at
    posts         integer not null,            -- posts of the load in that month
    posts_changed integer,                     -- rows the enrichment updated (detected language, sentiment, SDGs)
    enriched_at   timestamptz,                 -- null: waiting for enrichment
    primary key (load_id, month)
);
create index social_enrichment_pending on ops.social_enrichment (month) where enriched_at is null;
grant select, insert, update on ops.social_enrichment to cstrack_loader;
grant select on ops.social_enrichment to cstrack_transformer;

-- raw.social_post's foreign key to ops.load_run checked every landed post with its own lookup, after the
-- COPY: half of the server's time of a load (measured, issue #17). The same rule, checked once per statement:
-- new rows must name an existing load (one anti-join over the statement's rows), and a load whose posts
-- are stored cannot be deleted.
do $$
declare
    fk text;
begin
    select conname into fk from pg_constraint
    where conrelid = 'raw.social_post'::regclass and contype = 'f';
    if fk is not null then
        execute format('alter table raw.social_post drop constraint %I', fk);
    end if;
end $$;

create function raw.social_post_loads_exist() returns trigger language plpgsql as $$
begin
    if exists (select from new_rows as n where not exists (select from ops.load_run as l where l.load_id = n._load_id)) then
        raise foreign_key_violation using message =
            'raw.social_post: a row names a _load_id that is not in ops.load_run';
    end if;
    return null;
end $$;
create trigger social_post_loads_exist after insert on raw.social_post
    referencing new table as new_rows for each statement execute function raw.social_post_loads_exist();
create trigger social_post_loads_exist_update after update on raw.social_post
    referencing new table as new_rows for each statement execute function raw.social_post_loads_exist();

create function ops.load_run_posts_kept() returns trigger language plpgsql as $$
begin
    if exists (select from raw.social_post where _load_id = old.load_id) then
        raise foreign_key_violation using message =
            format('ops.load_run %s: raw.social_post still holds its posts', old.load_id);
    end if;
    return old;
end $$;
create trigger load_run_posts_kept before delete on ops.load_run
    for each row execute function ops.load_run_posts_kept();
