"""Serving rules, grading on real box-score rows, and the walk-forward replay."""

import json

import pandas as pd
import pytest
from dagster import DagsterInstance

from bestbets_dagster import settings
from bestbets_dagster.betting import recommend
from bestbets_dagster.grading.grading import grade
from bestbets_dagster.grading.report import family_figures
from bestbets_dagster.models.families import new_family
from bestbets_dagster.models.serving import confidence, edge_threshold
from bestbets_dagster.resources import DuckDBWarehouse
from bestbets_dagster_tests.conftest import raw_counts, subprocess_env

DAY = pd.Timestamp("2025-11-15")


def _prediction(person_id, team, predicted, line, recommendation, consensus=None):
    return {
        "game_date": DAY,
        "model_family": "v9_mae",
        "model_id": "m1",
        "model_status": "shadow",
        "person_id": person_id,
        "player_lookup": str(person_id),
        "team_abbr": team,
        "opponent_abbr": None,
        "game_id": None,
        "predicted_points": predicted,
        "line_value": line,
        "line_book": "draftkings",
        "line_over_price": -110,
        "line_under_price": -110,
        "consensus_line": consensus if consensus is not None else line,
        "edge": round(predicted - line, 1),
        "recommendation": recommendation,
        "confidence": 0.84,
        "edge_threshold": 3.0,
    }


@pytest.fixture(scope="module")
def graded(real_player_logs):
    day_logs = real_player_logs[real_player_logs["game_date"] == DAY]
    rows = [
        _prediction(1629029, "LAL", 46.0, 40.5, "OVER"),  # Luka scored 41: an OVER that went over
        _prediction(1628983, "OKC", 38.0, 33.0, "OVER"),  # SGA scored 33 on a 33 line: a push
        _prediction(203507, "MIL", 30.0, 28.5, "PASS"),  # Giannis: edge 1.5 is a PASS
        _prediction(1627783, "IND", 25.0, 30.5, "UNDER"),  # Siakam scored 30: an UNDER that won
        _prediction(1628418, "CLE", 9.0, 5.5, "OVER"),  # Thomas Bryant: DNP - Coach's Decision
        _prediction(1, "CLE", 12.0, 8.5, "OVER"),  # not in the box score at all
        _prediction(1629029, "LAL", 46.0, 40.5, "OVER") | {"team_abbr": "BOS", "person_id": 2},  # BOS did not play
        _prediction(203507, "MIL", 26.0, 33.5, "UNDER", consensus=29.5)
        | {"person_id": 203507, "model_family": "v9_q43"},
    ]
    return grade(pd.DataFrame(rows), day_logs, pd.Timestamp("2025-11-16T12:00:00Z")).set_index(
        ["model_family", "person_id"]
    )


def test_an_over_that_went_over_is_correct(graded):
    luka = graded.loc[("v9_mae", 1629029)]
    assert (luka["actual_points"], luka["prediction_correct"], luka["is_voided"]) == (41, True, False)
    assert luka["absolute_error"] == 5.0 and luka["signed_error"] == 5.0 and not luka["within_3_points"]
    assert graded.loc[("v9_mae", 1627783), "prediction_correct"]  # 30 under 30.5


def test_a_push_a_pass_and_a_dnp_are_null_never_a_loss(graded):
    push = graded.loc[("v9_mae", 1628983)]
    assert push["is_push"] and pd.isna(push["prediction_correct"]) and push["actual_points"] == 33
    assert pd.isna(graded.loc[("v9_mae", 203507), "prediction_correct"])
    dnp = graded.loc[("v9_mae", 1628418)]
    assert dnp["is_voided"] and dnp["void_reason"] == "dnp_coach_decision" and pd.isna(dnp["prediction_correct"])
    assert pd.isna(dnp["actual_points"])
    missing = graded.loc[("v9_mae", 1)]
    assert missing["is_voided"] and missing["void_reason"] == "dnp_not_in_box_score"


def test_games_without_a_box_score_wait(graded):
    assert ("v9_mae", 2) not in graded.index  # BOS had no game on 2025-11-15


def test_grading_against_the_consensus_line(graded):
    giannis = graded.loc[("v9_q43", 203507)]  # scored 32: UNDER 33.5 won; vs consensus 29.5 the UNDER lost
    assert giannis["prediction_correct"] and giannis["consensus_recommendation"] == "UNDER"
    assert giannis["consensus_correct"] == False  # noqa: E712


def test_report_figures_exclude_pushes_and_voids(graded):
    figures = family_figures(graded.reset_index())["v9_mae"]
    assert figures["n_graded"] == 4  # Luka, SGA, Giannis, Siakam played; two voids
    assert figures["n_edge3"] == 2 and figures["hit_rate_edge3"] == 1.0  # the push is out
    assert figures["line_mae"] == round((0.5 + 0 + 3.5 + 0.5) / 4, 3)


def test_edge_threshold_recommendation_and_confidence():
    assert edge_threshold(new_family("v9", "MAE")) == 3.0
    assert edge_threshold(new_family("v9", "Quantile:alpha=0.43")) == 4.0
    assert recommend(pd.Series([3.0, 2.9, -3.0, -4.1]), 3.0).tolist() == ["OVER", "PASS", "UNDER", "UNDER"]
    conf = confidence(pd.Series([69.0, 95.0, 75.0]), pd.Series([3.5, 9.0, float("nan")]))
    assert conf.tolist() == [0.87, 0.87, 0.82]  # 0-1 scale only
    assert conf.between(0, 1).all()


# ------------------------------------------------------------------------------------ the replay


@pytest.mark.slow
@pytest.mark.xdist_group("replay")
def test_replay_prints_a_family_table_and_writes_the_report(replay):
    home, stdout = replay
    report = json.loads((home / "reports" / "replay_2025-10-21_2025-12-06.json").read_text())
    window = raw_counts(settings.data_dir(), "2025-10-21", "2025-12-06")
    assert report["ingest"]["lined_player_games_all"] == window["lined_player_games"]
    assert report["ingest"]["lined_player_games"] == window["lined_player_games"]  # every game has a box score
    assert report["ingest"]["match_rate"] >= 0.99
    assert sorted(report["families"]) == [
        "v12_noveg_mae",
        "v12_noveg_q43",
        "v12_noveg_q45",
        "v9_mae",
        "v9_q43",
        "v9_q45",
    ]
    # Every figure recounted from the stored graded rows: played, not voided.
    graded = DuckDBWarehouse(path=str(home / "warehouse.duckdb")).read(
        "prediction_accuracy", "2025-10-21", "2025-12-06"
    )
    for family, figures in report["families"].items():
        played = graded[(graded["model_family"] == family) & ~graded["is_voided"].astype(bool)]
        error = played["predicted_points"].astype(float) - played["actual_points"].astype(float)
        line_error = played["line_value"].astype(float) - played["actual_points"].astype(float)
        assert figures["n_graded"] == len(played) > 0, family
        assert figures["mae"] == round(float(error.abs().mean()), 3)
        assert figures["line_mae"] == round(float(line_error.abs().mean()), 3)
        assert figures["bias"] == round(float(error.mean()), 3)
        line = next(row for row in stdout.splitlines() if row.startswith(family))
        assert f"{figures['mae']:.3f}" in line and str(figures["n_edge3"]) in line
    # Every family predicts every lined player who played: one graded count for all.
    assert len({f["n_graded"] for f in report["families"].values()}) == 1
    ingest = report["ingest"]
    assert (
        f"match rate {ingest['match_rate']:.2%} ({ingest['matched_player_games']}/{ingest['lined_player_games']}"
        in stdout
    )
    # Every box-score row of every season file through the end date (DNP rows included).
    box_scores = sorted((settings.data_dir() / "box_scores").glob("player_game_logs_*.csv.gz"))
    assert len(box_scores) == 2 and report["rows"]["player_game_logs"] == sum(
        len(pd.read_csv(path, usecols=["game_date"]).query("game_date <= '2025-12-06'")) for path in box_scores
    )
    # Ingest covers all the data up to the end date: both line windows.
    everything = raw_counts(settings.data_dir(), None, "2025-12-06")
    assert report["rows"]["prop_lines"] == everything["prop_lines"]
    assert report["rows"]["player_game_lines"] == everything["lined_player_games"]
    assert f"player_game_lines {report['rows']['player_game_lines']}" in stdout


@pytest.mark.slow
@pytest.mark.xdist_group("replay")
def test_replay_is_walk_forward_and_repeatable(replay, monkeypatch):
    from bestbets_dagster.replay import run_replay
    from bestbets_dagster.resources import DuckDBWarehouse

    home, _ = replay
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    preds = warehouse.read("predictions", "2025-10-21", "2025-12-06")
    registry = warehouse.read("model_registry")
    joined = preds.merge(registry, on=["model_id", "model_family"], how="left", validate="many_to_one")
    assert joined["training_end_date"].notna().all()
    # No prediction for D uses a model whose training or evaluation window reaches D.
    assert (joined["training_end_date"] < joined["game_date"]).all()
    assert (joined["eval_end_date"] < joined["game_date"]).all()
    assert (joined["training_cutoff"] <= joined["game_date"]).all()
    # A promoted model serves its family from its cutoff on; otherwise the date's own week's model
    # predicts as a shadow.
    from bestbets_dagster.models.registry import serving_model

    week_start = joined["game_date"] - pd.to_timedelta(joined["game_date"].dt.weekday, unit="D")
    shadow = joined["model_status"] == "shadow"
    assert (joined.loc[shadow, "training_cutoff"] == week_start[shadow]).all()
    for (day, family), rows in joined[~shadow].groupby(["game_date", "model_family"]):
        assert rows["model_id"].unique().tolist() == [serving_model(registry, family, day.date())["model_id"]]
    assert set(joined.loc[~shadow, "status"]) <= {"production"}

    for key, value in subprocess_env(home).items():
        monkeypatch.setenv(key, value)
    picks = warehouse.read("signal_best_bets_picks", "2025-10-21", "2025-12-06")
    # A second run over the last two weeks (retraining, predicting, picking again) changes nothing.
    run_replay(
        pd.Timestamp("2025-11-24").date(), pd.Timestamp("2025-12-06").date(), None, instance=DagsterInstance.ephemeral()
    )
    again = warehouse.read("predictions", "2025-10-21", "2025-12-06")
    pd.testing.assert_frame_equal(again.drop(columns="created_at"), preds.drop(columns="created_at"))
    picks_again = warehouse.read("signal_best_bets_picks", "2025-10-21", "2025-12-06")
    pd.testing.assert_frame_equal(picks_again.drop(columns="created_at"), picks.drop(columns="created_at"))


@pytest.mark.slow
def test_any_directory_laid_out_like_the_shared_data(tmp_path, data_dir, monkeypatch):
    """Other books and other file shapes: v4 JSON only, a book the project has never seen, parquet box scores."""
    from bestbets_dagster.replay import run_replay

    other = tmp_path / "other_data"
    (other / "box_scores").mkdir(parents=True)
    for folder, name in (("box_scores", "player_game_logs"), ("team_game_logs", "team_game_logs")):
        (other / folder).mkdir(exist_ok=True)
        for season in ("2024-25", "2025-26"):
            pd.read_csv(data_dir / folder / f"{name}_{season}.csv.gz", dtype=str).to_parquet(
                other / folder / f"{season}.parquet"
            )
    (other / "odds_api_v4").mkdir()
    for path in sorted((data_dir / "odds_api_v4").glob("*.json.gz")):
        import gzip

        payload = json.loads(gzip.open(path, "rt").read())
        for event in payload["data"]:
            for book in event["bookmakers"]:
                if book["key"] == "draftkings":
                    book["key"], book["title"] = "caesars", "Caesars"  # a book this project has never seen
        (other / "odds_api_v4" / path.name.replace(".gz", "")).write_text(json.dumps(payload))
    home = tmp_path / "home"
    for key, value in subprocess_env(home).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BESTBETS_DATA_DIR", str(other))
    report = run_replay(
        pd.Timestamp("2025-10-21").date(),
        pd.Timestamp("2025-10-25").date(),
        ["v9_mae", "v12_noveg_q43"],
        instance=DagsterInstance.ephemeral(),
    )
    assert report["data_dir"] == str(other)
    assert report["ingest"]["match_rate"] >= 0.99 and report["ingest"]["lined_player_games"] == 482  # 5 JSON days
    assert sorted(report["families"]) == ["v12_noveg_q43", "v9_mae"]
    assert all(f["n_graded"] > 400 for f in report["families"].values())
    from bestbets_dagster.resources import DuckDBWarehouse

    books = DuckDBWarehouse(path=str(home / "warehouse.duckdb")).read("prop_lines", "2025-10-21", "2025-10-25")[
        "bookmaker"
    ]
    assert "caesars" in set(books) and "draftkings" not in set(books)
