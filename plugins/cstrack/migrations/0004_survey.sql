-- Survey answers (DESIGN.md §6.3), loaded by cstrack.sources.survey through record_load.
-- The reconciliation unit of a survey load is the answer cell (respondent x item): every cell of
-- every data row is either loaded into raw.survey_answer (value null when unanswered) or quarantined
-- (out of scale, not a number, no consent, empty or duplicate respondent id): read = loaded + quarantined.

-- one row per answer cell of a consenting respondent; value as answered (reverse coding is applied in dbt)
create table raw.survey_answer (
    _load_id       bigint not null references ops.load_run,
    _source        text not null,
    _source_row    integer not null,
    _loaded_at     timestamptz not null default now(),
    codebook       text not null,              -- surveys/<codebook>.yml
    survey         text not null,
    wave           text not null,
    respondent_key text not null,              -- keyed hash (HMAC) of the respondent id or row number
    item           text not null,
    value          numeric,                    -- null: not answered
    primary key (_load_id, respondent_key, item)
);

-- one row per consenting respondent: mapped attributes; the raw strings stay here only
create table raw.survey_respondent (
    _load_id       bigint not null references ops.load_run,
    _source        text not null,
    _source_row    integer not null,
    _loaded_at     timestamptz not null default now(),
    codebook       text not null,
    survey         text not null,
    wave           text not null,
    respondent_key text not null,
    submitted_at   timestamptz,
    language       text,
    gender         text,
    age_band       text,
    country        text,
    project        text,
    attributes_raw jsonb,                      -- the cells as read: never leaves raw
    primary key (_load_id, respondent_key)
);

-- the codebook's items as applied by one load: scales, constructs, reverse coding
create table raw.survey_item (
    _load_id           bigint not null references ops.load_run,
    _loaded_at         timestamptz not null default now(),
    codebook           text not null,
    survey             text not null,
    wave               text not null,
    item               text not null,
    source_column      text not null,
    scale              text not null,
    scale_min          numeric not null,
    scale_max          numeric not null,
    reverse            boolean not null,
    construct          text not null,
    construct_label    text not null,
    min_share_answered numeric not null,
    primary key (_load_id, item)
);

-- free-text answers: restricted, never read by dbt or the reporter
create table raw.survey_free_text (
    _load_id       bigint not null references ops.load_run,
    _source        text not null,
    _source_row    integer not null,
    _loaded_at     timestamptz not null default now(),
    codebook       text not null,
    survey         text not null,
    wave           text not null,
    respondent_key text not null,
    question       text not null,
    answer         text not null
);
revoke all on raw.survey_free_text from cstrack_transformer, cstrack_reporter, public;
-- raw.survey_respondent holds raw attribute strings; the transformer reads its mapped columns only
revoke select on raw.survey_respondent from cstrack_transformer;
grant select (_load_id, _source_row, _loaded_at, codebook, survey, wave, respondent_key, submitted_at,
              language, gender, age_band, country, project)
    on raw.survey_respondent to cstrack_transformer;
