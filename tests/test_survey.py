"""Survey pipeline end to end on the real PostgreSQL server: the demo exports (CSV, XLSX, SPSS), a
second generated survey and a hand-made one load through their codebooks; one dbt build of the
survey marts serves every assertion (scores and reliability against numpy, privacy, suppression,
per-cell quarantine and reconciliation)."""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest

from cstrack import warehouse
from cstrack.demo.generate.survey import CONSTRUCTS, ITEMS, SELF_DESCRIBED, generate_survey
from cstrack.ingest.survey import load_survey, load_survey_inbox
from cstrack.transform import dbt

PROJECT = Path(__file__).resolve().parents[1]
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SURVEY_MARTS = ["+path:models/marts/survey", "+int_survey__indicator_values"]
REVERSE = {code for code, _, reverse, *_ in ITEMS if reverse}

# A hand-made export: project alpha has 4 consenting respondents, beta 5 (one of them answered 7 on a
# 1-5 scale); a refusal in alpha must not make it 5; one gender is a self-description no map covers.
SEGMENT_CSV = textwrap.dedent("""\
    id,Do you agree to take part?,Project,Gender,Q1 The topic interests me,Q2 I would do it again,Anything else?
    a1,Yes,alpha,f,4,5,
    a2,Yes,alpha,m,3,3,
    a3,Yes,alpha,f,5,4,
    a4,Yes,alpha,Cosmic wanderer (self-described),2,2,
    a5,No,alpha,f,1,1,I refuse but here is my secret remark
    b1,Yes,beta,f,4,4,
    b2,Yes,beta,m,7,2,The hidden free text remark XYZZY
    b3,Yes,beta,m,5,5,
    b4,Yes,beta,f,1,3,
    b5,Yes,beta,f,2,,
""")
SEGMENT_CODEBOOK = textwrap.dedent("""\
    survey: segments_check
    wave: "2030"
    format: csv
    respondent_id: id
    consent: {column_prefix: "Do you agree", required: "Yes"}
    context: {country: {value: AT}, language: {value: en}}
    demographics:
      project: {column: Project, map: {alpha: alpha, beta: beta}}
      gender: {column: Gender, map: {f: female, m: male}}
    scales:
      agree5: {min: 1, max: 5}
    items:
      Q1: {column_prefix: "Q1 ", scale: agree5, construct: liking}
      Q2: {column_prefix: "Q2 ", scale: agree5, construct: liking}
    constructs:
      liking: {label: Liking, min_share_answered: 0.5}
    free_text: [{column: "Anything else?"}]
""")


@dataclass
class Built:
    wh: warehouse.Warehouse
    demo: list  # LoadResults of the sample inbox
    demo_truth: list  # the generator's record of what the sample files hold
    generated: list  # SurveyFiles of the second generated survey
    segment_load: object


def rows(wh, sql, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("home")
        mp.setenv("CSTRACK_HOME", str(home))
        mp.setenv("CSTRACK_PSEUDONYM_KEY", "survey-test-key")
        mp.delenv("CSTRACK_INBOX", raising=False)
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        url = f"{SERVER.rsplit('/', 1)[0]}/{name}"
        mp.setenv("WAREHOUSE_URL", url)
        wh = warehouse.Warehouse.from_url(url)
        try:
            warehouse.migrate(wh)
            demo = load_survey_inbox(wh, inbox=PROJECT / "data" / "sample")
            demo_truth = generate_survey(tmp_path_factory.mktemp("demo"), tmp_path_factory.mktemp("demo_cb"))
            gen_dir = tmp_path_factory.mktemp("gen")
            generated = generate_survey(
                gen_dir / "data", gen_dir / "surveys", survey="numpy_check", seed=7,
                waves={"2021": {"en": 45, "de": 35, "es": 30}, "2022": {"en": 40, "de": 30, "es": 35}},
            )  # fmt: skip
            for f in generated:
                load_survey(f.codebook_path, f.data_path, wh)
            seg_dir = tmp_path_factory.mktemp("seg")
            (seg_dir / "segments_check.yml").write_text(SEGMENT_CODEBOOK)
            (seg_dir / "segments_check.csv").write_text(SEGMENT_CSV)
            segment_load = load_survey(seg_dir / "segments_check.yml", seg_dir / "segments_check.csv", wh)
            dbt.run_dbt(["build", "--select", *SURVEY_MARTS], wh, marts_schema="marts")
            yield Built(wh, demo, demo_truth, generated, segment_load)
        finally:
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')


# --- numpy, independently of the loader and dbt ------------------------------------------------------


def expected_statistics(files) -> dict:
    """(wave, construct) -> alpha, alpha_std, n_complete, mean, sd, computed from what the generator wrote."""
    out = {}
    for wave in sorted({f.wave for f in files}):
        people = [p for f in files if f.wave == wave for p in f.respondents if p.consent]
        for construct in CONSTRUCTS:
            codes = [code for code, c, *_ in ITEMS if c == construct]
            x = np.array(
                [
                    [
                        np.nan if p.answers[c] is None or not 1 <= p.answers[c] <= 5 else float(p.answers[c])
                        for c in codes
                    ]
                    for p in people
                ]
            )  # out-of-scale answers are quarantined, so they count as unanswered
            for j, code in enumerate(codes):
                if code in REVERSE:
                    x[:, j] = 6 - x[:, j]
            complete = x[~np.isnan(x).any(axis=1)]
            k = len(codes)
            alpha = k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / complete.sum(axis=1).var(ddof=1))
            corr = np.corrcoef(complete, rowvar=False)
            r_bar = corr[np.triu_indices(k, 1)].mean()
            answered = (~np.isnan(x)).sum(axis=1)
            scores = np.array([np.nanmean(row) for row, n in zip(x, answered, strict=True) if n / k >= 0.5 and n > 0])
            out[(wave, construct)] = {
                "cronbach_alpha": alpha,
                "cronbach_alpha_std": k * r_bar / (1 + (k - 1) * r_bar),
                "n_complete": len(complete),
                "mean_score": scores.mean(),
                "sd_score": scores.std(ddof=1),
                "n_scored": len(scores),
            }
    return out


def test_alphas_means_and_sds_match_numpy(built):
    expected = expected_statistics(built.generated)
    got = rows(
        built.wh,
        "select wave, construct, cronbach_alpha, cronbach_alpha_std,"
        " n_complete, mean_score, sd_score, n_scored, n_items"
        " from marts.agg_survey_construct_reliability where survey = 'numpy_check'",
    )
    assert len(got) == len(expected) == 2 * len(CONSTRUCTS)
    for wave, construct, alpha, alpha_std, n_complete, mean, sd, n_scored, n_items in got:
        want = expected[(wave, construct)]
        assert n_items == sum(1 for _, c, *_ in ITEMS if c == construct)
        assert (n_complete, n_scored) == (want["n_complete"], want["n_scored"])
        assert 0 < n_complete < n_scored  # missing answers are there, and listwise deletion bites
        for column, value in (
            ("cronbach_alpha", alpha),
            ("cronbach_alpha_std", alpha_std),
            ("mean_score", mean),
            ("sd_score", sd),
        ):
            assert float(value) == pytest.approx(want[column], abs=1e-9), (wave, construct, column)


def test_reverse_coded_item_is_flipped(built):
    # with LRN04 flipped, it correlates positively with its construct: the alpha stays high
    alphas = rows(
        built.wh,
        "select cronbach_alpha from marts.agg_survey_construct_reliability where construct = 'learn_knowledge'",
    )
    assert alphas and all(float(a) > 0.7 for (a,) in alphas)


# --- privacy -------------------------------------------------------------------------------------------


def marts_text(wh) -> str:
    """Every value of every text column of every table in schema marts, one per line."""
    columns = rows(
        wh,
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        " and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY')",
    )
    assert {t for t, _ in columns} >= {"fct_survey_response", "agg_survey_construct_by_segment"}
    values = []
    for table, column in columns:
        values += [
            str(v) for (v,) in rows(wh, f'select "{column}"::text from marts."{table}" where "{column}" is not null')
        ]
    return "\n".join(values)


def test_no_respondent_id_free_text_or_unmapped_string_reaches_marts(built):
    text = marts_text(built.wh)
    people = [p for f in built.demo_truth + built.generated for p in f.respondents]
    tokens = {p.token for p in people if p.token}
    remarks = {p.remark for p in people if p.remark} | {
        "I refuse but here is my secret remark",
        "The hidden free text remark XYZZY",
    }
    unmapped = set(SELF_DESCRIBED) | {"Cosmic wanderer (self-described)"}
    assert len(tokens) > 300 and len(remarks) > 10
    assert [t for t in tokens | {"a1", "b2"} if t in text.split("\n")] == []
    assert [t for t in tokens if t in text] == []
    assert [r for r in remarks if r in text] == []
    assert [u for u in unmapped if u in text] == []
    # they are in raw (where they belong), so the scan was not vacuous
    stored = {a for (a,) in rows(built.wh, "select answer from raw.survey_free_text")}
    assert "The hidden free text remark XYZZY" in stored and "I refuse but here is my secret remark" not in stored
    unmapped_counted = {v for (v,) in rows(built.wh, "select value from ops.unmapped_values where field = 'gender'")}
    assert "Cosmic wanderer (self-described)" in unmapped_counted


def test_restricted_raw_tables(built):
    with warehouse.connect(built.wh) as conn:
        conn.execute("set role cstrack_transformer")
        assert conn.execute("select count(*) from raw.survey_answer").fetchone()[0] > 0
        assert conn.execute("select count(gender) from raw.survey_respondent").fetchone()[0] > 0
        # attributes of any name (and open answers, which dbt publishes only as categories of >= 5 respondents)
        readable = conn.execute("select count(attributes), count(attributes_open) from raw.survey_respondent")
        assert readable.fetchone()[0] > 0
        for sql in ("select count(*) from raw.survey_free_text", "select attributes_raw from raw.survey_respondent"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(sql)


# --- suppression, quarantine, reconciliation -----------------------------------------------------------


def test_segment_of_4_is_suppressed_and_of_5_is_not(built):
    got = {
        seg: (n, suppressed, mean, sd, low, high)
        for seg, n, suppressed, mean, sd, low, high in rows(
            built.wh,
            "select dimension_value, n, suppressed, mean_score, sd_score,"
            " ci_low, ci_high from marts.agg_survey_construct_by_segment"
            " where survey = 'segments_check' and dimension = 'project'",
        )
    }
    assert got["alpha"] == (4, True, None, None, None, None)
    n, suppressed, mean, sd, low, high = got["beta"]
    # beta: (4+4)/2, 7 quarantined -> 2 alone, (5+5)/2, (1+3)/2, 2 alone (Q2 empty: 1 of 2 answered is enough)
    scores = np.array([4, 2, 5, 2, 2], dtype=float)
    assert (n, suppressed) == (5, False)
    assert float(mean) == pytest.approx(scores.mean(), abs=1e-12)
    assert float(sd) == pytest.approx(scores.std(ddof=1), abs=1e-12)
    half = 2.776445105198 * scores.std(ddof=1) / np.sqrt(5)  # t(0.975, 4)
    assert (float(low), float(high)) == pytest.approx((scores.mean() - half, scores.mean() + half), abs=1e-9)
    indicator = rows(
        built.wh,
        "select geography, value, n, suppressed from intermediate.int_survey__indicator_values"
        " where indicator_code = 'SRV_RESPONDENTS' and dimension_value = 'segments_check' and geography = 'all'",
    )
    assert indicator == [("all", 9, 9, False)]


def test_out_of_scale_cell_is_quarantined_alone_and_counts_reconcile(built):
    load = built.segment_load
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (20, 17, 3)  # 10 rows x 2 items
    quarantined = rows(
        built.wh,
        "select source_row, field, reason, raw_value from ops.quarantine where load_id = %s order by 1, 2",
        (load.load_id,),
    )
    assert quarantined[0][:2] == (5, "Q1") and quarantined[0][2].startswith("no consent") and quarantined[0][3] is None
    assert quarantined[1][:2] == (5, "Q2")
    assert quarantined[2] == (7, "Q1", "item Q1: 7 is outside the scale (scale agree5: 1-5)", "7")
    b2 = rows(
        built.wh,
        "select a.item, a.value from raw.survey_answer a where a._load_id = %s and a._source_row = 7 order by 1",
        (load.load_id,),
    )
    assert b2 == [("Q2", 2)]
    for result in built.demo + [load]:
        recorded = rows(
            built.wh,
            "select rows_read, rows_loaded, rows_quarantined,"
            " (select count(*) from raw.survey_answer where _load_id = l.load_id),"
            " (select count(*) from ops.quarantine where load_id = l.load_id)"
            " from ops.load_run l where load_id = %s",
            (result.load_id,),
        )[0]
        assert recorded == (
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_loaded,
            result.rows_quarantined,
        )
        assert result.rows_read == result.rows_loaded + result.rows_quarantined


def test_every_demo_format_loads_and_a_second_run_loads_nothing(built):
    by_format = {Path(r.source_file).suffix: r for r in built.demo}
    assert set(by_format) == {".csv", ".xlsx", ".sav"} and len(built.demo) == 6
    truth = {f.data_path.name: f for f in built.demo_truth}
    for result in built.demo:
        people = truth[Path(result.source_file).name].respondents
        assert result.rows_read == len(people) * len(ITEMS)
        respondents = rows(
            built.wh, "select count(*) from raw.survey_respondent where _load_id = %s", (result.load_id,)
        )[0][0]
        assert respondents == sum(p.consent for p in people)
    total = rows(
        built.wh, "select count(distinct respondent_key) from marts.fct_survey_response where survey = 'participants'"
    )[0][0]
    assert total >= 500
    again = load_survey_inbox(built.wh, inbox=PROJECT / "data" / "sample")
    assert all(r.skipped for r in again) and [r.load_id for r in again] == [r.load_id for r in built.demo]


def test_committed_demo_csv_is_the_generators_output(built):
    for f in built.demo_truth:
        if f.data_path.suffix == ".csv":
            assert f.data_path.read_bytes() == (PROJECT / "data" / "sample" / "surveys" / f.data_path.name).read_bytes()
        assert f.codebook_path.read_text() == (PROJECT / "surveys" / f.codebook_path.name).read_text()


def test_trends_and_indicators(built):
    trend = rows(
        built.wh,
        "select wave, previous_wave, mean_score, change_from_previous from marts.agg_survey_construct_trend"
        " where survey = 'participants' and construct = 'mot_intrinsic' order by wave",
    )
    assert [(w, p) for w, p, *_ in trend] == [("2021", None), ("2022", "2021")]
    assert float(trend[1][3]) == pytest.approx(float(trend[1][2]) - float(trend[0][2]), abs=1e-12)
    codes = {
        c for (c,) in rows(built.wh, "select distinct indicator_code from intermediate.int_survey__indicator_values")
    }
    assert codes == {"SRV_RESPONDENTS", "SRV_CONSTRUCT_MEAN", "SRV_CONSTRUCT_AGREE_SHARE", "SRV_CONSTRUCT_ALPHA"}
    catalogue = (PROJECT / "dbt" / "seeds" / "indicator_catalogue.csv").read_text()
    assert all(code in catalogue for code in codes)
    bad = rows(
        built.wh,
        "select count(*) from intermediate.int_survey__indicator_values"
        " where (n < 5) <> suppressed or (suppressed and (value is not null or numerator is not null))",
    )
    assert bad == [(0,)]
