-- JIT compilation off for every session on this database (dbt, the quality gates, dashboards).
-- The planner's cost of a query over raw.social_post's 361 monthly partitions is high enough to trigger
-- JIT even for a few hundred rows, and compiling took 80 s for a build of 900 posts that runs in
-- milliseconds without it. Takes effect for new connections.
do $$
begin
    execute format('alter database %I set jit = off', current_database());
end
$$;
