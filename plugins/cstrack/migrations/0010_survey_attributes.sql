-- Survey attributes of any name (issue 13): a codebook may name demographics beyond the five classic
-- columns (education, occupation, ...), and a column attribute without `map` is an open answer.
--   attributes      {name: category} of every attribute mapped, parsed or constant (null: not stated or
--                   unmapped); the classic five stay in their own columns as well
--   attributes_open {name: answer} of every open attribute (no map, no parse), whitespace collapsed:
--                   dbt publishes an answer only when at least 5 respondents of the survey and wave
--                   hold it (the rest become 'other'), so an open answer never reaches marts as such
-- The transformer reads both (it computes the categories); attributes_raw stays the loader's only.
alter table raw.survey_respondent
    add column attributes jsonb,
    add column attributes_open jsonb;

-- rows loaded before: their attributes are the classic columns
update raw.survey_respondent
set attributes = jsonb_build_object(
    'language', language, 'gender', gender, 'age_band', age_band, 'country', country, 'project', project
)
where attributes is null;

grant select (attributes, attributes_open) on raw.survey_respondent to cstrack_transformer;
