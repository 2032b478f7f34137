-- Incremental builds (issue #8): a commit order for loads, and raw social posts partitioned by month.

-- load_id is handed out when a load starts, so loads can commit out of id order. commit_seq is taken
-- under one lock right before a load commits: commit_seq order is commit order, and every load not yet
-- committed will get a higher commit_seq than any a build can see. Incremental models fold in the
-- loads whose commit_seq is above the highest they have folded, and never miss a late commit.
create sequence ops.load_commit_seq;
alter table ops.load_run add column commit_seq bigint;
update ops.load_run set commit_seq = nextval('ops.load_commit_seq') where status = 'succeeded';
create unique index load_run_commit_seq on ops.load_run (commit_seq);
grant usage, select on sequence ops.load_commit_seq to cstrack_loader;

-- raw.social_post partitioned by month of posted_at (monthly partitions from 2006, the year Twitter
-- started, to 2035; anything else lands in the default partition), so a month can be archived or
-- dropped alone and time-bounded scans touch only their months.
alter table raw.social_post rename to social_post_unpartitioned;
alter index raw.social_post_key rename to social_post_unpartitioned_key;
alter index raw.social_post_load rename to social_post_unpartitioned_load;
create table raw.social_post (like raw.social_post_unpartitioned including defaults including constraints)
    partition by range (posted_at);
alter table raw.social_post add foreign key (_load_id) references ops.load_run;
do $$
declare
    month date := date '2006-01-01';
begin
    while month < date '2036-01-01' loop
        execute format(
            'create table raw.%I partition of raw.social_post for values from (%L) to (%L)',
            'social_post_' || to_char(month, 'YYYY_MM'), month, month + interval '1 month'
        );
        month := month + interval '1 month';
    end loop;
end $$;
create table raw.social_post_default partition of raw.social_post default;
insert into raw.social_post select * from raw.social_post_unpartitioned;
drop table raw.social_post_unpartitioned;
create index social_post_key on raw.social_post (platform, post_id, _load_id);
create index social_post_load on raw.social_post (_load_id);
grant select, insert, update on raw.social_post to cstrack_loader;
grant select on raw.social_post to cstrack_transformer;
