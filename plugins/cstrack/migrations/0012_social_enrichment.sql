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

