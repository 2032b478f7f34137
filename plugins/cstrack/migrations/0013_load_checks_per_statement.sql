-- Every landed row names its load (raw.<table>._load_id -> ops.load_run). As a foreign key, PostgreSQL checked
-- that with one lookup per row after each COPY: about half of the server's time of a social load and a
-- third of a catalogue load (measured, issue #17). The same rule, checked once per statement: the new rows
-- of an insert or update must name existing loads (one anti-join over the statement's rows), and a load
-- whose rows are stored cannot be deleted.
create function raw.rows_name_a_load() returns trigger language plpgsql as $$
begin
    if exists (select from new_rows as n where not exists (select from ops.load_run as l where l.load_id = n._load_id)) then
        raise foreign_key_violation using message =
            format('raw.%s: a row names a _load_id that is not in ops.load_run', tg_table_name);
    end if;
    return null;
end $$;

create function ops.load_run_rows_kept() returns trigger language plpgsql as $$
declare
    tbl text;
    held boolean;
begin
    for tbl in select c.relname from pg_class as c join pg_attribute as a on a.attrelid = c.oid
        where c.relnamespace = 'raw'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
          and a.attname = '_load_id' and not a.attisdropped
    loop
        execute format('select exists (select from raw.%I where _load_id = $1)', tbl) into held using old.load_id;
        if held then
            raise foreign_key_violation using message =
                format('ops.load_run %s: raw.%s still holds its rows', old.load_id, tbl);
        end if;
    end loop;
    return old;
end $$;
create trigger load_run_rows_kept before delete on ops.load_run
    for each row execute function ops.load_run_rows_kept();

do $$
declare
    fk record;
begin
    for fk in select c.conname, t.relname from pg_constraint as c join pg_class as t on t.oid = c.conrelid
        where c.contype = 'f' and c.confrelid = 'ops.load_run'::regclass
          and t.relnamespace = 'raw'::regnamespace and not t.relispartition
          and c.conkey = array[(select attnum from pg_attribute where attrelid = t.oid and attname = '_load_id')]
    loop
        execute format('alter table raw.%I drop constraint %I', fk.relname, fk.conname);
        execute format('create trigger %I after insert on raw.%I referencing new table as new_rows'
                       ' for each statement execute function raw.rows_name_a_load()', fk.relname || '_loads_exist', fk.relname);
        execute format('create trigger %I after update on raw.%I referencing new table as new_rows'
                       ' for each statement execute function raw.rows_name_a_load()', fk.relname || '_loads_exist_update', fk.relname);
    end loop;
end $$;
