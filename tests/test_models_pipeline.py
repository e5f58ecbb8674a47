"""`repradar train` and `repradar score` on the generated seed-7 company (150 reps, 36
months): real warehouse files, real dbt builds, the real CLI."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer

from models_ml.backtest import labelled, rolling_origins, run_backtest, split
from models_ml.features import FEATURES, LABEL, horizon_label, load_snapshots
from models_ml.metrics import expected_calibration_error
from models_ml.store import UntrustedModelFile, load_model
from tests.conftest import run_repradar
from tests.marts import query
from tests.truncate import truncate_raw


@pytest.fixture(scope="module")
def scored(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built seed-7 warehouse, trained and scored through the CLI."""
    copy = tmp_path_factory.mktemp("scored") / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    run_repradar("train", "--warehouse", str(copy))
    run_repradar("score", "--warehouse", str(copy))
    return copy


def model_run(warehouse: Path) -> pd.Series:
    return query(warehouse, "SELECT * FROM ml.model_runs ORDER BY trained_at DESC").iloc[0]


def attrition_model(warehouse: Path):
    return load_model(warehouse.parent / model_run(warehouse)["attrition_path"])


def test_backtest_origins_never_train_on_what_they_test(warehouse: Path) -> None:
    snapshots = load_snapshots(warehouse)
    origins = rolling_origins(snapshots, horizon_months=3)
    assert len(origins) >= 3
    rows = labelled(snapshots)
    for origin in origins:
        train, test = split(rows, origin)
        # every training row's 3-month outcome was known by the first test month-end
        assert (train["month_end"] + pd.offsets.MonthEnd(3)).max() <= origin.test_from
        assert not set(train["snapshot_id"]) & set(test["snapshot_id"])


def test_backtest_metrics_are_stored_per_kind_horizon_origin_and_pooled(scored: Path) -> None:
    backtests = query(scored, "SELECT * FROM ml.backtests WHERE model = 'attrition'")
    shown = backtests[backtests["horizon_months"] == 3]
    assert set(shown["kind"]) == {"logistic", "gradient_boosting"}
    assert (shown["origin"] == "pooled").sum() == 2
    chosen = backtests[backtests["chosen"]]
    assert set(chosen["horizon_months"]) == {1, 3, 6, 12}
    assert (chosen["origin"] == "pooled").sum() == 4
    calibration = query(scored, "SELECT * FROM ml.backtest_calibration")
    assert calibration.groupby(["kind", "horizon_months"])["bin"].nunique().min() == 10


def test_every_pooled_row_carries_bootstrap_intervals(scored: Path) -> None:
    pooled = query(
        scored, "SELECT * FROM ml.backtests WHERE origin = 'pooled' AND model = 'attrition'"
    )
    assert (pooled["roc_auc_low"] < pooled["roc_auc"]).all()
    assert (pooled["roc_auc"] < pooled["roc_auc_high"]).all()
    assert (pooled["lift_top10_low"] <= pooled["lift_top10_high"]).all()
    assert pooled["calibration_error_high"].notna().all()


def test_the_chosen_model_ranks_leavers_and_beats_the_base_rate(scored: Path) -> None:
    pooled = query(
        scored,
        "SELECT * FROM ml.backtests WHERE chosen AND origin = 'pooled' AND horizon_months = 3",
    ).iloc[0]
    assert pooled["roc_auc"] > 0.72
    assert pooled["lift_top10"] > 2.5
    assert pooled["brier"] < pooled["brier_base_rate"]


def test_probabilities_are_calibrated_on_held_out_months(warehouse: Path) -> None:
    result = run_backtest(load_snapshots(warehouse), kinds=("logistic",))
    scored = result.shown(result.predictions)
    y, p = scored[LABEL].astype(int).to_numpy(), scored["score"].to_numpy()
    assert abs(p.mean() - y.mean()) < 0.02
    assert expected_calibration_error(y, p) < 0.03


def test_the_same_data_and_seed_give_the_same_model(scored: Path, tmp_path: Path) -> None:
    again = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored, again)
    run_repradar("train", "--warehouse", str(again))
    first, second = attrition_model(scored), attrition_model(again)
    rows = load_snapshots(scored)[FEATURES]
    np.testing.assert_array_equal(first.predict_proba(rows), second.predict_proba(rows))


def test_the_model_file_round_trips_through_skops(scored: Path) -> None:
    path = scored.parent / model_run(scored)["attrition_path"]
    assert path.suffix == ".skops"
    rows = load_snapshots(scored)[FEATURES].head(50)
    reloaded = load_model(path)
    original = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(reloaded.predict_proba(rows), original.predict_proba(rows))


def test_a_model_file_asking_for_foreign_code_is_refused(tmp_path: Path) -> None:
    hostile = tmp_path / "attrition.skops"
    sio.dump(FunctionTransformer(func=print), hostile)
    with pytest.raises(UntrustedModelFile, match=r"builtins\.print"):
        load_model(hostile)


def test_the_model_card_has_data_metrics_fairness_limits_and_drift(scored: Path) -> None:
    card = (scored.parent / model_run(scored)["card_path"]).read_text(encoding="utf-8")
    for section in (
        "## Data",
        "## Backtest",
        "## Account-loss model",
        "## Fairness",
        "## Limits",
        "## Drift at the last scoring",
        "## Horizons",
        "95% interval",
        "### Do the gaps follow the groups' exit rates?",
        "### Mitigation: a High cut-off per group",
        "not decisions",
    ):
        assert section in card
    assert "Not scored yet" not in card  # scoring wrote its drift section
    for protected in ("gender", "birth_year", "birth year"):
        assert protected not in model_run(scored)["features"]


def test_fairness_rates_cover_gender_and_age_band(scored: Path) -> None:
    rates = query(scored, "SELECT * FROM ml.fairness")
    assert set(rates["attribute"]) == {"gender", "age_band"}
    judged = rates[rates["selection_rate"].notna()]
    assert len(judged) >= 4 and judged["true_positive_rate"].between(0, 1).all()
    assert (judged["flagged"] == (judged["selection_rate_ratio"] < 0.8)).all()
    assert not rates.loc[rates["selection_rate"].isna(), "flagged"].any()
    proxies = query(scored, "SELECT * FROM ml.proxy_correlations")
    assert set(proxies["feature"]) == set(FEATURES)


def test_every_rep_of_the_latest_month_gets_a_score_and_a_band(scored: Path) -> None:
    scores = query(scored, "SELECT * FROM ml.rep_attrition_scores")
    latest = query(
        scored,
        "SELECT count(*) AS n FROM intermediate.int_rep_month_snapshots WHERE month_end = "
        "(SELECT max(month_end) FROM intermediate.int_rep_month_snapshots)",
    )["n"].iloc[0]
    assert len(scores) == latest and scores["employee_key"].is_unique
    run = model_run(scored)
    high = scores["probability"] >= run["band_high"]
    assert (scores.loc[high, "band"] == "High").all()
    assert (scores.loc[scores["probability"] < run["band_medium"], "band"] == "Low").all()
    assert (scores["band_change"] == "new").all()


def test_exposure_is_risk_times_expected_loss_of_the_book(scored: Path) -> None:
    reps = query(scored, "SELECT * FROM ml.rep_attrition_scores").set_index("employee_key")
    accounts = query(scored, "SELECT * FROM ml.account_loss_scores")
    expected = (
        (accounts["loss_probability"] * accounts["revenue_12m"])
        .groupby(accounts["employee_key"])
        .sum()
    )
    at_risk = reps.loc[expected.index, "probability"] * expected
    np.testing.assert_allclose(reps.loc[expected.index, "revenue_at_risk"], at_risk, rtol=1e-9)
    assert accounts["loss_probability"].between(0, 1).all()


def test_drivers_are_in_words_and_explain_the_score(scored: Path) -> None:
    drivers = query(scored, "SELECT * FROM ml.rep_risk_drivers")
    assert drivers.groupby("employee_key")["rank"].max().max() <= 3
    assert (drivers["contribution"] > 0).all()
    assert not drivers["driver"].str.contains("_").any()
    model = attrition_model(scored)
    month = load_snapshots(scored)
    month = month[month["month_end"] == month["month_end"].max()].reset_index(drop=True)
    top = drivers[drivers["rank"] == 1].merge(month, on="employee_key")
    for row in top.head(20).itertuples():
        features = month.loc[month["employee_key"] == row.employee_key, FEATURES]
        typical = features.copy()
        typical[row.feature] = model.reference_[row.feature]
        drop = model.predict_proba(features)[0, 1] - model.predict_proba(typical)[0, 1]
        assert drop == pytest.approx(row.contribution)


def test_a_second_scoring_reports_the_change_since_the_last(scored: Path, tmp_path: Path) -> None:
    # the warehouse and its models/ move together; the copy scores with its own model files
    shutil.copytree(scored.parent, tmp_path / "copy")
    again = tmp_path / "copy" / "warehouse.duckdb"
    run_repradar("score", "--warehouse", str(again))
    latest = query(
        again,
        "SELECT * FROM ml.rep_attrition_scores WHERE score_run_id = "
        "(SELECT score_run_id FROM ml.score_runs ORDER BY scored_at DESC LIMIT 1)",
    )
    assert latest["previous_probability"].notna().all()
    assert (latest["band_change"] == "same").all()
    assert latest["probability_change"].abs().max() < 1e-12


def test_feature_drift_is_recorded_for_every_feature(scored: Path) -> None:
    drift = query(scored, "SELECT * FROM ml.feature_drift")
    assert set(drift["feature"]) == set(FEATURES)
    assert (drift["drifted"] == (drift["psi"] >= 0.25)).all()
    listed = query(scored, "SELECT drifted_features FROM ml.score_runs")["drifted_features"]
    assert set(",".join(listed.dropna()).split(",")) - {""} == set(
        drift.loc[drift["drifted"], "feature"]
    )


def test_risk_by_team_suppresses_small_teams_and_names_no_one(scored: Path) -> None:
    teams = query(scored, "SELECT * FROM marts.mart_risk_by_team")
    hidden = teams[teams["is_suppressed"]]
    assert hidden[["reps", "expected_exits_3m", "revenue_at_risk"]].isna().all().all()
    sizes = query(
        scored, "SELECT team, count(*) AS reps FROM restricted.mart_rep_risk GROUP BY team"
    )
    sizes = sizes.set_index("team")["reps"]
    assert set(sizes[sizes < 5].index) <= set(hidden["team"])
    if len(hidden):  # hidden together: at least two teams and five people
        assert len(hidden) >= 2 and sizes[hidden["team"]].sum() >= 5
    total = teams[teams["is_company_total"]].iloc[0]
    scores = query(scored, "SELECT probability FROM ml.rep_attrition_scores")
    assert total["expected_exits_3m"] == pytest.approx(scores["probability"].sum())
    assert not {"employee_key", "employee_name", "employee_email"} & set(teams.columns)


def test_risk_by_team_bands_hold_the_exact_sums_they_stand_for(scored: Path) -> None:
    teams = query(scored, "SELECT * FROM marts.mart_risk_by_team WHERE NOT is_suppressed")
    assert not teams.empty
    edges = {"0-1": (0, 1), "1-2": (1, 2), "2-3": (2, 3), "3-5": (3, 5), "5-10": (5, 10)}
    for team in teams.itertuples():
        low, high = edges.get(team.expected_exits_band, (10, float("inf")))
        assert low <= team.expected_exits_3m < high, team.team
        counts = {"0": (0, 0), "1-4": (1, 4), "5-9": (5, 9)}
        low, high = counts.get(team.high_risk_reps_band, (10, 10**9))
        assert low <= team.high_risk_reps <= high, team.team
        exact = float(team.revenue_at_risk)
        assert abs(team.revenue_at_risk_rounded - exact) <= 0.05 * exact + 0.01
        significant = f"{team.revenue_at_risk_rounded:.0f}".rstrip("0")
        assert len(significant) <= 2, team.revenue_at_risk_rounded


def test_the_restricted_worklist_names_high_risk_reps_and_successors(scored: Path) -> None:
    reps = query(scored, "SELECT * FROM restricted.mart_rep_risk")
    assert reps["employee_name"].notna().all()
    worklist = query(scored, "SELECT * FROM restricted.mart_handover_worklist")
    high = set(reps.loc[reps["band"] == "High", "employee_key"])
    assert high and set(worklist["employee_key"]) <= high
    assert len(set(worklist["employee_key"])) >= len(high) // 2  # most High reps own accounts
    for _, book in worklist.groupby("employee_key"):
        ranked = book.sort_values("handover_rank")
        assert ranked["exposure"].is_monotonic_decreasing


def test_scores_at_a_month_do_not_change_when_later_data_is_removed(
    warehouse: Path, scored: Path, tmp_path: Path
) -> None:
    cut_off = dt.date(2026, 4, 30)
    truncated = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, truncated)
    truncate_raw(truncated, cut_off)
    run_repradar("transform", "--warehouse", str(truncated))
    model = attrition_model(scored)

    def scores_at_cut_off(warehouse: Path) -> pd.Series:
        rows = load_snapshots(warehouse)
        rows = rows[rows["month_end"] == pd.Timestamp(cut_off)].set_index("employee_key")
        return pd.Series(model.predict_proba(rows[FEATURES])[:, 1], index=rows.index).sort_index()

    full, cut = scores_at_cut_off(scored), scores_at_cut_off(truncated)
    assert len(full) > 100
    pd.testing.assert_series_equal(full, cut)


def test_score_before_train_says_to_train_first(warehouse: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, fresh)
    result = run_repradar("score", "--warehouse", str(fresh), check=False)
    assert result.returncode == 1
    assert "run `repradar train` first" in result.stderr


def test_train_before_transform_says_to_transform_first(tmp_path: Path) -> None:
    empty = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(empty)).close()
    result = run_repradar("train", "--warehouse", str(empty), check=False)
    assert result.returncode == 1
    assert "run `repradar transform` first" in result.stderr


def test_transform_leaves_the_risk_marts_of_the_last_scoring_alone(
    warehouse: Path, scored: Path, tmp_path: Path
) -> None:
    tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
    assert "mart_risk_by_team" not in set(query(warehouse, tables)["table_name"])
    rebuilt = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored, rebuilt)
    before = query(rebuilt, "SELECT * FROM marts.mart_risk_by_team ORDER BY team")
    finished = run_repradar("transform", "--warehouse", str(rebuilt))
    assert "mart_risk_by_team" not in finished.stderr
    after = query(rebuilt, "SELECT * FROM marts.mart_risk_by_team ORDER BY team")
    pd.testing.assert_frame_equal(before, after)


def test_person_level_scores_stay_out_of_analyst_schemas(scored: Path) -> None:
    person_level = query(
        scored,
        "SELECT table_schema, table_name FROM information_schema.columns "
        "WHERE column_name = 'probability' AND table_schema NOT IN ('ml', 'restricted')",
    )
    assert person_level.empty, person_level


def test_the_three_month_label_rebuilt_from_time_to_event_matches_dbt(warehouse: Path) -> None:
    snapshots = load_snapshots(warehouse)
    rebuilt = horizon_label(snapshots, 3)
    pd.testing.assert_series_equal(
        rebuilt.astype("Float64"), snapshots[LABEL].astype("Float64"), check_names=False
    )


def test_scores_keep_every_horizon_and_show_the_three_month_one(scored: Path) -> None:
    scores = query(scored, "SELECT * FROM ml.rep_attrition_scores")
    assert (scores["horizon_months"] == 3).all()
    np.testing.assert_allclose(scores["probability"], scores["probability_3m"])
    ordered = scores[["probability_1m", "probability_3m", "probability_6m", "probability_12m"]]
    assert (ordered.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    team = query(scored, "SELECT * FROM marts.mart_risk_by_team WHERE is_company_total").iloc[0]
    assert team["expected_exits_1m"] < team["expected_exits_3m"] < team["expected_exits_12m"]


def test_a_fairness_mitigation_setting_bands_each_rep_with_their_groups_cut_off(
    scored: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scored, copy)
    shutil.copytree(scored.parent / "models", tmp_path / "models")
    setting = {"REPRADAR_FAIRNESS_MITIGATION": "gender"}
    run_repradar("train", "--warehouse", str(copy), env=setting)
    run_repradar("score", "--warehouse", str(copy), env=setting)
    run = model_run(copy)
    assert run["fairness_mitigation"] == "gender"
    cut_offs = query(
        copy, "SELECT * FROM ml.group_cut_offs WHERE run_id = ?", [run["model_run_id"]]
    )
    assert set(cut_offs["attribute"]) == {"gender"} and len(cut_offs) >= 2
    scores = query(
        copy,
        """SELECT s.probability, s.band, p.gender FROM ml.rep_attrition_scores s
        JOIN restricted.dim_people p USING (employee_key)
        WHERE s.score_run_id = (SELECT max(score_run_id) FROM ml.score_runs)""",
    )
    cut = (
        scores["gender"]
        .fillna("unknown")
        .map(dict(zip(cut_offs["group"], cut_offs["cut_off"], strict=True)))
    )
    cut = cut.fillna(run["band_high"])
    np.testing.assert_array_equal(scores["band"] == "High", scores["probability"] >= cut)
    card = (copy.parent / run["card_path"]).read_text(encoding="utf-8")
    assert "**On** for gender" in card and "true-positive rates from" in card


def test_an_unknown_mitigation_setting_is_a_usage_error(scored: Path) -> None:
    result = run_repradar(
        "train",
        "--warehouse",
        str(scored),
        check=False,
        env={"REPRADAR_FAIRNESS_MITIGATION": "race"},
    )
    assert result.returncode == 2 and "REPRADAR_FAIRNESS_MITIGATION" in result.stderr


def test_the_horizon_shown_is_a_setting_that_train_and_score_follow(
    warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    six = {"REPRADAR_RISK_HORIZON_MONTHS": "6"}
    run_repradar("transform", "--warehouse", str(copy), env=six)
    run_repradar("train", "--warehouse", str(copy), env=six)
    run_repradar("score", "--warehouse", str(copy), env=six)
    run = model_run(copy)
    assert run["horizon_months"] == 6
    pooled = query(copy, "SELECT * FROM ml.backtests WHERE chosen AND origin = 'pooled'")
    assert set(pooled["horizon_months"]) == {1, 3, 6, 12}
    scores = query(copy, "SELECT * FROM ml.rep_attrition_scores")
    assert (scores["horizon_months"] == 6).all()
    np.testing.assert_allclose(scores["probability"], scores["probability_6m"])
    team = query(copy, "SELECT * FROM marts.mart_risk_by_team WHERE is_company_total").iloc[0]
    assert team["horizon_months"] == 6
    assert team["expected_exits"] == pytest.approx(team["expected_exits_6m"])
