-- Catalogue loads at scale (issue #8): duplicate ids found by the database, cheaper storage of the rows.

-- The key (_load_id, source_record_id) stays unique, but is checked at commit when a loader asks for it
-- (`set constraints ... deferred`): the catalogue loader COPYs every row of an export, then moves the second
-- and later rows of an id to ops.quarantine in the same transaction, instead of keeping every id in memory.
-- Writers that do not defer it (the crawl) see it checked row by row, as before.
alter table raw.catalogue_record
    drop constraint catalogue_record_pkey,
    add constraint catalogue_record_pkey primary key (_load_id, source_record_id) deferrable initially immediate;

-- source_data (the row as read, for lineage and re-mapping; nothing queries into it) is kept as json text:
-- jsonb made the server take apart and rebuild every raw row while loading.
alter table raw.catalogue_record alter column source_data type json using source_data::json;

-- record, pii and source_data are about 3.5 kB a row: most of the cost of storing them was pglz compressing
-- them. lz4 compresses about as well at a fraction of the CPU. Only new values are affected (no rewrite);
-- a server built without lz4 keeps pglz.
do $$
begin
    alter table raw.catalogue_record
        alter column record set compression lz4,
        alter column pii set compression lz4,
        alter column source_data set compression lz4;
exception when feature_not_supported then
    raise notice 'lz4 is not available on this server: raw.catalogue_record keeps pglz';
end
$$;
