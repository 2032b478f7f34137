-- Crawler (DESIGN.md §6.2): every fetch is stored in raw.crawl_page, extraction reads only stored pages.

-- One row per crawl of one platform: what the fetches did, and how many projects its pages hold.
create table ops.crawl_run (
    crawl_id           bigserial primary key,
    platform           text not null,            -- the platform's `id` in catalogues/platforms.yml
    method             text not null,            -- eucs_api | jsonld | html
    base_url           text not null,
    status             text not null check (status in ('running', 'succeeded', 'failed')),
    requests           integer not null default 0,  -- HTTP requests sent, robots.txt and retries included
    pages_fetched      integer not null default 0,  -- 200 with a body stored
    pages_not_modified integer not null default 0,  -- 304: the stored body is still current
    pages_failed       integer not null default 0,  -- error status or network error after the retries
    pages_oversized    integer not null default 0,  -- larger than the size cap: not stored, quarantined
    pages_disallowed   integer not null default 0,  -- robots.txt said no
    pages_refused      integer not null default 0,  -- not http(s), or a private address the platform may not use
    projects           integer,                  -- records the latest extraction of this crawl's pages loaded
    load_id            bigint references ops.load_run,  -- that extraction's load
    previous_projects  integer,                  -- the platform's previous crawl, for the drop check
    flagged            boolean not null default false,  -- projects fell by more than half against previous_projects
    flag_reason        text,
    message            text,                     -- why the crawl failed
    started_at         timestamptz not null default now(),
    finished_at        timestamptz
);
create index crawl_run_platform on ops.crawl_run (platform, crawl_id);

-- One row per page request of a crawl (append-only). The body is kept for fetched pages only; a 304
-- row carries the content hash of the stored body it confirmed.
create table raw.crawl_page (
    _crawl_id    bigint not null references ops.crawl_run,
    _source      text not null,                -- the URL
    _source_row  integer not null,             -- order of the request within the crawl
    _loaded_at   timestamptz not null default now(),
    platform     text not null,
    url          text not null,
    page_kind    text not null check (page_kind in ('api', 'listing', 'project')),
    outcome      text not null check (outcome in ('fetched', 'not_modified', 'failed', 'oversized', 'disallowed', 'refused')),
    status       integer,                      -- HTTP status of the last attempt; null when none was sent or answered
    headers      jsonb,                        -- response headers (lower-case names)
    content_hash text,                         -- sha256 of the body
    body         bytea,
    bytes        integer,
    attempts     integer not null default 0,
    error        text,                         -- why a page was not fetched
    fetched_at   timestamptz not null,
    primary key (_crawl_id, _source_row)
);
-- the last stored fetch of a URL: conditional GET and extraction look it up
create index crawl_page_url on raw.crawl_page (platform, url, _crawl_id);

grant usage, select on sequence ops.crawl_run_crawl_id_seq to cstrack_loader;
