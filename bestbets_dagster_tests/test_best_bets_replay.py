"""The best bets of the README's replay (2025-10-21..12-06): volume, the report against a recount
from the tables, the exports against their JSON schema, exact replays of stored days, re-runs."""

import datetime as dt
import html
import json

import jsonschema
import numpy as np
import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from bestbets_dagster.bestbets.export import load_schema
from bestbets_dagster.bestbets.pipeline import replay_picks
from bestbets_dagster.betting import wilson_interval
from bestbets_dagster.resources import BestBetsSettings, DuckDBWarehouse, LocalArtifactStore
from bestbets_dagster_tests.conftest import home_instance, run_cli

START, END = "2025-10-21", "2025-12-06"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]  # one worker builds the replay


@pytest.fixture(scope="module")
def home(replay):
    return replay[0]


@pytest.fixture(scope="module")
def warehouse(home):
    return DuckDBWarehouse(path=str(home / "warehouse.duckdb"))


@pytest.fixture(scope="module")
def report(home):
    return json.loads((home / "reports" / f"replay_{START}_{END}.json").read_text())


def test_every_game_day_has_a_card_of_priced_bets_at_a_book_s_offer_in_two_tiers(report, warehouse, replay):
    bets = report["best_bets"]
    decisions = warehouse.read("best_bets_decisions", START, END)
    game_days = int((decisions["n_candidates"] > 0).sum())
    assert bets["game_days"] == game_days == 46  # every date of the window but Thanksgiving
    assert bets["selection"] == "ev"
    assert bets["n_picks"] == report["rows"]["signal_best_bets_picks"] == report["rows"]["best_bets_accuracy"]
    assert (
        f"best bets (ev selection): {bets['n_picks']} graded picks on "
        f"{bets['game_days_with_picks']}/{game_days} game days" in replay[1]
    )
    picks = warehouse.read("signal_best_bets_picks", START, END)
    config = json.loads(decisions["config_json"].iloc[0])
    floor = config["min_expected_value"]
    # A card on every game day of up to max_picks_per_day; value at or above the EV floor, lean below.
    per_day = picks.groupby("game_date").size()
    assert len(per_day) == game_days and per_day.max() <= config["max_picks_per_day"] == 5
    assert ((picks["expected_value"] >= floor) == (picks["tier"] == "value")).all()
    assert set(picks["tier"]) == {"value", "lean"}
    assert f"value {report['best_bets']['by_tier']['value']['n_picks']} picks" in replay[1]
    assert "P(win) anchored on the market: combined log loss" in replay[1]
    price = picks["judged_price"].astype(float)
    payout = np.where(price > 0, price / 100, 100 / price.abs())
    assert np.allclose(picks["expected_value"], picks["p_win"] * payout - (1 - picks["p_win"]))
    # The bet is one of the books' last pre-game offers for that player-game.
    from bestbets_dagster.ingest.lines import current_offers

    offers = current_offers(warehouse.read("prop_lines", START, END))
    bet = picks.assign(over=picks["recommendation"] == "OVER").merge(
        offers, left_on=["game_date", "person_id", "bet_book"], right_on=["game_date", "person_id", "bookmaker"]
    )
    assert len(bet) == len(picks)
    assert (bet["line"] == bet["bet_line"].astype(float)).all()
    assert (np.where(bet["over"], bet["over_price"], bet["under_price"]) == bet["bet_price"]).all()
    # Candidates: one per lined player-game, every one priced by the market from the first day.
    tags = warehouse.read("pick_signal_tags", START, END)
    assert tags[["game_date", "person_id"]].duplicated().sum() == 0
    assert tags["p_win"].between(0, 1).all() and tags["expected_value"].notna().all()


def test_a_pick_s_market_probability_ev_and_tier_recompute_from_prop_lines_and_its_calibration(warehouse):
    """2025-11-18's card by hand: each other sportsbook's no-vig P(over) moved to the bet's line with the
    normal approximation (sd 1.75 sqrt(line)), their median; the stored calibration on top; EV at the
    price; the tier by the EV floor."""
    from scipy.stats import norm

    from bestbets_dagster.ingest.lines import current_offers

    day = "2025-11-18"
    picks = warehouse.read("signal_best_bets_picks", day, day)
    assert 1 <= len(picks) <= 5
    offers = current_offers(warehouse.read("prop_lines", day, day))
    implied = lambda price: np.where(price > 0, 100 / (price + 100), -price / (-price + 100))  # noqa: E731
    for pick in picks.itertuples(index=False):
        others = offers[
            (offers["person_id"] == pick.person_id)
            & (offers["bookmaker"] != pick.bet_book)
            & ~offers["bookmaker"].isin(["prizepicks", "underdog"])
        ]
        assert len(others) == pick.market_books > 0
        over_i, under_i = implied(others["over_price"].astype(float)), implied(others["under_price"].astype(float))
        q = over_i / (over_i + under_i)
        line = float(pick.bet_line)
        moved = norm.cdf(norm.ppf(q) - (line - others["line"]) / (1.75 * np.sqrt(others["line"])))
        assert pick.market_p_over == pytest.approx(float(np.median(moved)), abs=1e-9)
        cal = json.loads(pick.calibration_json)
        z = (float(pick.predicted_points) - line) / np.sqrt(line)
        m = np.log(pick.market_p_over / (1 - pick.market_p_over))
        p_over = 1 / (1 + np.exp(-(cal["a"] + cal["b"] * z + cal["c"] * m)))
        p_win = p_over if pick.recommendation == "OVER" else 1 - p_over
        assert pick.p_win == pytest.approx(p_win, abs=1e-9)
        price = float(pick.bet_price)
        payout = price / 100 if price > 0 else 100 / -price
        assert pick.expected_value == pytest.approx(p_win * payout - (1 - p_win), abs=1e-9)
        assert pick.break_even == pytest.approx(1 / (1 + payout))
        assert pick.tier == ("value" if pick.expected_value >= 0.03 else "lean")


def _recount(picks: pd.DataFrame, box: pd.DataFrame, at_selected_book: bool = False) -> pd.DataFrame:
    """Each pick settled from the box score alone, at its bet's line and price (or the selected book's)."""
    played = box[~box["is_dnp"]][["game_date", "person_id", "points"]]
    p = picks.merge(played, on=["game_date", "person_id"], how="left")
    p["points"] = p["points"].astype(float)
    over = p["recommendation"] == "OVER"
    if at_selected_book:
        line = p["line_value"].astype(float)
        price = np.where(over, p["line_over_price"], p["line_under_price"]).astype(float)
    else:
        line, price = p["bet_line"].astype(float), p["bet_price"].astype(float)
    won = np.where(over, p["points"] > line, p["points"] < line)
    p["result"] = np.select([p["points"].isna(), p["points"] == line, won], ["VOID", "PUSH", "WIN"], "LOSS")
    p["units"] = np.select(
        [p["result"] == "WIN", p["result"] == "LOSS"],
        [np.where(price > 0, price / 100, 100 / np.abs(price)), -1.0],
        0.0,
    )
    return p


def _figures(rows: pd.DataFrame) -> dict:
    wins, losses, pushes, voids = (int((rows["result"] == k).sum()) for k in ("WIN", "LOSS", "PUSH", "VOID"))
    units = round(float(rows["units"].sum()), 3)
    return {
        "n_picks": len(rows),
        "wins": wins,
        "losses": losses,
        "pushes": pushes,
        "voids": voids,
        "hit_rate": round(wins / (wins + losses), 4) if wins + losses else None,
        **dict(
            zip(
                ("hit_rate_low", "hit_rate_high"),
                (None if v is None else round(v, 4) for v in wilson_interval(wins, wins + losses)),
                strict=True,
            )
        ),
        "units": units,
        "roi": round(rows["units"].sum() / (wins + losses + pushes), 4) if wins + losses + pushes else None,
    }


def test_report_figures_match_a_recount_from_the_tables(report, warehouse):
    picks = warehouse.read("signal_best_bets_picks", START, END)
    box = warehouse.read("player_game_logs", START, END)
    recount = _recount(picks, box)
    bets = report["best_bets"]
    assert {k: bets[k] for k in _figures(recount)} == _figures(recount)
    assert bets["at_selected_book"] == _figures(_recount(picks, box, at_selected_book=True))
    for direction, rows in recount.groupby("recommendation"):
        assert bets["by_direction"][direction] == _figures(rows)
    for family, rows in recount.groupby("source_model_family"):
        assert bets["by_family"][family] == _figures(rows)


def test_the_report_s_calibration_and_buckets_recount_from_the_graded_rows(report, warehouse):
    from bestbets_dagster.bestbets.market import graded_with_market
    from bestbets_dagster.bestbets.probability import CALIBRATION_DAYS, decided_rows, walk_forward_probabilities
    from bestbets_dagster.grading.report import log_loss
    from bestbets_dagster.ingest.lines import current_offers

    first = (pd.Timestamp(START) - pd.Timedelta(days=CALIBRATION_DAYS)).date()
    graded = warehouse.read("prediction_accuracy", first, END)
    # The market's P of each graded prediction from the books' lines (one snapshot a day: no decision times).
    offers = current_offers(warehouse.read("prop_lines", first, END))
    graded = graded_with_market(graded, offers, ("prizepicks", "underdog"), [dt.date.fromisoformat(START)])
    priced = decided_rows(walk_forward_probabilities(graded, list(pd.date_range(START, END).date)))
    # The combined P is the market's on this window (no family's edge earns a weight), and it scores so.
    outcome = (priced["actual_points"].astype(float) > priced["line_value"].astype(float)).to_numpy(float)
    assert report["market"]["all"]["log_loss_combined"] == round(log_loss(priced["p_over"], outcome), 5)
    assert report["market"]["all"]["log_loss_combined"] <= report["market"]["all"]["log_loss_market"]
    assert all(f["adds_nothing"] for f in report["market"]["families"].values())
    over = priced["actual_points"].astype(float) > priced["line_value"].astype(float)
    tenths = report["calibration"]
    assert sum(r["n"] for r in tenths) == len(priced)
    for row in tenths:
        low = float(row["bin"][1:4])
        in_bin = (priced["p_over"] >= low) & (priced["p_over"] < low + 0.1)
        assert row["n"] == in_bin.sum() and row["realized"] == round(over[in_bin].mean(), 4)
    judged = [abs(r["gap_points"]) for r in tenths if r["n"] >= 100]
    assert report["calibration_check"]["max_abs_gap_points"] == max(judged)
    deciles = report["calibration_by_quantile"]
    assert [r["decile"] for r in deciles] == list(range(1, 11)) and sum(r["n"] for r in deciles) == len(priced)
    # Realized rates are stored to 4 decimals: a recount within half a row per decile.
    assert sum(r["realized"] * r["n"] for r in deciles) == pytest.approx(over.sum(), abs=2)
    assert sum(r["n"] for r in report["buckets"]["by_abs_edge"]) == len(priced)
    assert set(report["line_shrunk"]) == set(report["families"])
    weeks = [w["week_start"] for w in report["weeks"]]
    assert weeks[0] == "2025-10-20" and weeks[-1] == "2025-12-01" and len(weeks) == 7


def test_picks_are_graded_with_their_source_model_s_prediction(warehouse):
    graded = warehouse.read("best_bets_accuracy", START, END)
    accuracy = warehouse.read("prediction_accuracy", START, END)
    joined = graded.merge(
        accuracy,
        left_on=["game_date", "person_id", "source_model_family"],
        right_on=["game_date", "person_id", "model_family"],
        how="left",
        validate="one_to_one",
    )
    assert (joined["model_id"] == joined["source_model_id"]).all()
    assert (joined["line_value_x"] == joined["line_value_y"]).all()
    assert (joined["actual_points_x"].fillna(-1) == joined["actual_points_y"].fillna(-1)).all()


def test_every_export_validates_against_the_schema_and_matches_the_table(home, warehouse):
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    picks = warehouse.read("signal_best_bets_picks", START, END)
    exports = home / "artifacts" / "signal-best-bets"
    dates = pd.date_range(START, END).strftime("%Y-%m-%d")
    for day in dates:
        document = json.loads((exports / f"{day}.json").read_text())
        validator.validate(document)
        of_day = picks[picks["game_date"] == pd.Timestamp(day)].sort_values("rank")
        assert document["total_picks"] == len(of_day) == len(document["picks"])
        assert [p["player_lookup"] for p in document["picks"]] == of_day["player_lookup"].tolist()
        assert (
            sum(document["filter_summary"]["rejected"].values()) + len(of_day)
            == document["filter_summary"]["total_candidates"]
        )
    latest = json.loads((exports / "latest.json").read_text())
    validator.validate(latest)
    assert latest["date"] == END
    meta = json.loads((exports / "latest.json.meta.json").read_text())
    assert meta["cache_control"] == "public, max-age=60"


def test_a_stored_day_replays_exactly_from_its_tags_and_decision_snapshot(warehouse):
    tags = warehouse.read("pick_signal_tags", START, END)
    decisions = warehouse.read("best_bets_decisions", START, END)
    picks = warehouse.read("signal_best_bets_picks", START, END)
    assert len(decisions) == 47
    for decision in decisions.to_dict("records"):
        day = decision["game_date"]
        again = replay_picks(tags[tags["game_date"] == day], decision)
        stored = picks[picks["game_date"] == day].sort_values("rank")
        assert again["player_lookup"].tolist() == stored["player_lookup"].tolist()
        assert np.allclose(again["composite_score"].astype(float), stored["composite_score"].astype(float))


def test_rerunning_a_date_replaces_its_picks_and_files(home, warehouse):
    from bestbets_dagster.defs import best_bets_assets
    from bestbets_dagster.defs.partition_range import range_tags

    # The replay's day with the most picks (the expected-value rule bets on few days).
    picks = warehouse.read("signal_best_bets_picks", START, END)
    assert len(picks), "the replay made no pick to re-run"
    day = f"{picks['game_date'].value_counts().idxmax():%Y-%m-%d}"
    before = {
        name: warehouse.read(name, day, day)
        for name in ("pick_signal_tags", "signal_best_bets_picks", "best_bets_filter_audit")
    }
    export = home / "artifacts" / "signal-best-bets" / f"{day}.json"
    first = json.loads(export.read_text())
    latest_before = (home / "artifacts" / "signal-best-bets" / "latest.json").read_text()
    result = materialize(
        best_bets_assets[:2],
        instance=DagsterInstance.ephemeral(),
        resources={
            "warehouse": warehouse,
            "artifacts": LocalArtifactStore(root=str(home / "artifacts")),
            "best_bets": BestBetsSettings(),
        },
        tags=range_tags(day, day),
    )
    assert result.success
    for name, rows in before.items():
        after = warehouse.read(name, day, day)
        assert len(after) == len(rows) > 0, name
        key = ["person_id"]
        pd.testing.assert_frame_equal(
            after.drop(columns=[c for c in after.columns if c.endswith("_at")]).sort_values(key).reset_index(drop=True),
            rows.drop(columns=[c for c in rows.columns if c.endswith("_at")]).sort_values(key).reset_index(drop=True),
        )
    second = json.loads(export.read_text())
    assert second["generated_at"] > first["generated_at"]
    assert second["picks"] == first["picks"] and second["record"] == first["record"]
    assert (home / "artifacts" / "signal-best-bets" / "latest.json").read_text() == latest_before  # an older date


def test_signal_backtest_reports_each_signal_on_graded_data(home, warehouse):
    out = run_cli(home, "signal-backtest", "--start", START, "--end", END, "--json", timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    results = {r["signal"]: r for r in json.loads(out.stdout)}
    assert len(results) == 20 and not results["fg_cold_continuation"]["registered"]
    # Recount one signal from the tables: candidates tagged bench_under, graded by their source model.
    tags = warehouse.read("pick_signal_tags", START, END)
    accuracy = warehouse.read("prediction_accuracy", START, END)
    tagged = tags[[("bench_under" in list(t)) for t in tags["signal_tags"]]]
    graded = tagged.merge(
        accuracy,
        left_on=["game_date", "person_id", "source_model_family"],
        right_on=["game_date", "person_id", "model_family"],
    )
    decided = graded["prediction_correct"].dropna().astype(bool)
    bench = results["bench_under"]
    assert bench["n"] == len(decided) > 20 and bench["wins"] == int(decided.sum())
    assert bench["by_direction"]["OVER"]["n"] == 0  # an UNDER-only signal
    assert [w["start"] for w in bench["windows"]] == ["2025-10-21", "2025-11-04", "2025-11-18", "2025-12-02"]
    assert sum(w["n"] for w in bench["windows"]) == bench["n"]
    assert bench["meets_promotion_rule"] == (bench["hit_rate"] >= 60 and not bench["last_window_collapsed"])
    table = run_cli(home, "signal-backtest", "--start", START, "--end", END, "--signal", "bench_under", timeout=300)
    assert table.stdout.splitlines()[0].startswith("counts: every candidate with the signal")
    assert table.stdout.splitlines()[3].split()[:3] == ["bench_under", str(bench["n"]), f"{bench['hit_rate']:.1f}"]
    unknown = run_cli(home, "signal-backtest", "--start", START, "--end", END, "--signal", "nope", timeout=300)
    assert unknown.returncode != 0 and "unknown signal 'nope'" in unknown.stderr


def _html_table(page: str, table_id: str) -> list[list[str]]:
    """The body rows of one table of the HTML report, as text cells."""
    import re

    table = page.split(f"<table id={table_id}>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_the_html_report_renders_in_a_browser(home, tmp_path):
    from bestbets_dagster_tests.test_dagster_dev import render

    dom, console = render((home / "reports" / f"replay_{START}_{END}.html").as_uri(), tmp_path, "report")
    assert f"Replay {START}..{END}" in dom and '<table id="picks">' in dom
    assert console == ""  # the page has no script at all


def test_the_html_report_states_the_warehouse_s_figures(home, warehouse, report, replay):
    from bestbets_dagster.bestbets.results import summarize
    from bestbets_dagster.betting import wilson_interval

    path = home / "reports" / f"replay_{START}_{END}.html"
    assert f"report: {path}" in replay[1]  # the printed summary names the page
    page = path.read_text()
    assert page.count('src="data:image/png;base64,') == 7  # self-contained: every plot embedded
    results = warehouse.read("best_bets_accuracy", START, END)
    totals = summarize(results)
    assert f"{totals['wins']}-{totals['losses']} ({totals['pushes']} pushes, {totals['voids']} voids)" in page
    # Every graded pick is a row of the pick table, in date and rank order.
    picks = _html_table(page, "picks")
    assert [(row[0], row[2], row[11]) for row in picks] == [
        (str(r.game_date)[:10], html.escape(r.player_name), r.result)
        for r in results.sort_values(["game_date", "rank"]).itertuples(index=False)
    ]
    # By direction: n, wins and the Wilson interval recounted from the table.
    for direction, n, wins, _, interval, _, _ in _html_table(page, "by_direction"):
        rows = results[(results["recommendation"] == direction) & results["result"].isin(["WIN", "LOSS"])]
        assert (int(n), int(wins)) == (len(rows), int((rows["result"] == "WIN").sum()))
        low, high = wilson_interval(int(wins), int(n))
        assert interval == f"{100 * low:.1f}-{100 * high:.1f}%"
    # Every family's edge-side bets by |edge|: the same counts as the JSON report's bucket table.
    by_edge = _html_table(page, "by_abs_edge")
    assert [int(row[1]) for row in by_edge] == [bucket["n"] for bucket in report["buckets"]["by_abs_edge"]]
    # The family table: MAE and the line's on the same rows, recounted from prediction_accuracy.
    graded = warehouse.read("prediction_accuracy", START, END)
    played = graded[~graded["is_voided"].astype(bool)]
    for family, n, mae, line_mae, *_ in _html_table(page, "families"):
        rows = played[played["model_family"] == family]
        assert int(n) == len(rows)
        assert float(mae) == pytest.approx((rows["predicted_points"] - rows["actual_points"]).abs().mean(), abs=5e-4)
        assert float(line_mae) == pytest.approx((rows["line_value"] - rows["actual_points"]).abs().mean(), abs=5e-4)


def test_the_config_view_recounts_the_stored_rows(home, warehouse, monkeypatch):
    import datetime as dt

    from bestbets_dagster.bestbets.dashboard import FILTER_LOOKBACK_DAYS
    from bestbets_dagster.defs import bestbets as bestbets_defs

    day = dt.date(2025, 12, 6)
    result = run_cli(home, "config", "--date", str(day), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    view = json.loads(result.stdout)
    # Filters: rejections of the 30 days before the day, per filter, as the audit stores them.
    audit = warehouse.read(
        "best_bets_filter_audit", day - dt.timedelta(days=FILTER_LOOKBACK_DAYS), day - dt.timedelta(1)
    )
    counts = audit["filter_name"].value_counts()
    assert {row["filter"]: row["rejected"] for row in view["filters"]} == {
        row["filter"]: int(counts.get(row["filter"], 0)) for row in view["filters"]
    }
    assert len(view["filters"]) == 11 and sum(r["rejected"] for r in view["filters"]) > 0
    # Families: the model each one predicted the day with.
    served = warehouse.read("predictions", day, day).drop_duplicates("model_family")
    assert {r["model_family"]: r["serving_model"] for r in view["families"]} == dict(
        zip(served["model_family"], served["model_id"])
    )
    # Signals: the regime of the last health day before the day.
    health = warehouse.read("signal_health_daily", day - dt.timedelta(1), day - dt.timedelta(1))
    assert {r["signal"]: r["regime"] for r in view["signals"]} == dict(zip(health["signal_tag"], health["regime"]))
    assert view["checks"] == [] and view["aggregator"]["config_version"] == BestBetsSettings().config().version
    assert all(setting["description"] for setting in view["aggregator"]["settings"])
    # Each combo's original figures are labelled as such beside its record measured this season.
    combo = next(c for c in view["combos"] if c["combo"] == "bench_under")
    assert (combo["original_hit_rate"], combo["original_n"]) == (76.9, 156) and combo["this_season_n"] > 0
    # Without --date, a warehouse whose newest game date is long past shows that date, and says so.
    default = run_cli(home, "config", "--json")
    assert default.returncode == 0 and json.loads(default.stdout)["day"] == str(day)
    assert f"has no data; as of the newest date with best bets, {day}" in default.stderr
    # The same view on the asset, with its consistency check.
    monkeypatch.setattr(bestbets_defs, "today_eastern", lambda: day)
    materialized = materialize(
        [bestbets_defs.best_bets_config],
        instance=DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse, "best_bets": BestBetsSettings()},
    )
    metadata = materialized.asset_materializations_for_node("best_bets_config")[0].metadata
    assert "| player_blacklist |" in metadata["view"].value and metadata["problems"].value == 0
    assert all(check.passed for check in materialized.get_asset_check_evaluations())


def test_the_weekly_report_card_recounts_the_week(home, warehouse):
    from bestbets_dagster.defs.monitoring import weekly_report_card

    week, last = "2025-12-01", "2025-12-07"
    result = run_cli(home, "report-card", "--week", "2025-12-03", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads(result.stdout)
    assert card["week"] == week and card["weeks"] == ["2025-11-10", "2025-11-17", "2025-11-24", week]
    # Every candidate of the week settled at its shopped line, recounted from the two tables.
    tags = warehouse.read("pick_signal_tags", week, last)
    accuracy = warehouse.read("prediction_accuracy", week, last)
    graded = tags.merge(
        accuracy.rename(columns={"model_family": "source_model_family", "model_id": "source_model_id"}),
        on=["game_date", "person_id", "source_model_family", "source_model_id"],
        suffixes=("", "_graded"),
    )
    actual, line = graded["actual_points"].astype(float), graded["bet_line"].astype(float)
    decided = graded[actual.notna() & (actual != line) & ~graded["is_voided"].astype(bool)]
    won = (decided["actual_points"].astype(float) > decided["bet_line"].astype(float)) == (
        decided["recommendation"] == "OVER"
    )
    assert card["candidates"]["total"]["n"] == len(decided) > 0
    assert card["candidates"]["total"]["wins"] == int(won.sum())
    for row in card["candidates"]["direction"]:
        mine = decided["recommendation"] == row["group"]
        assert (row["weeks"][week]["n"], row["weeks"][week]["wins"]) == (int(mine.sum()), int(won[mine].sum()))
    # The asset's partition shows the same card.
    materialized = materialize(
        [weekly_report_card],
        partition_key=week,
        instance=DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse, "best_bets": BestBetsSettings()},
    )
    metadata = materialized.asset_materializations_for_node("weekly_report_card")[0].metadata
    assert metadata["candidates"].value == card["candidates"]["total"]
    assert "### by tier" in metadata["card"].value and metadata["plot"].value.startswith("![report card](data:image")


def test_a_ranged_report_card_run_shows_every_weeks_totals_and_the_last_card(home, warehouse):
    from bestbets_dagster.defs.monitoring import weekly_report_card
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.grading.report_card import format_report_card, record_cell, report_card_from_warehouse

    config = BestBetsSettings().config()
    materialized = materialize(
        [weekly_report_card],
        tags=range_tags("2025-11-17", "2025-12-01"),
        instance=DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse, "best_bets": BestBetsSettings()},
    )
    events = materialized.asset_materializations_for_node("weekly_report_card")
    assert sorted(e.partition for e in events) == ["2025-11-17", "2025-11-24", "2025-12-01"]
    metadata = events[0].metadata
    assert metadata["range"].value == "2025-11-17..2025-12-01 (3 weeks)"
    for week in ("2025-11-17", "2025-11-24", "2025-12-01"):
        card = report_card_from_warehouse(warehouse, config, dt.date.fromisoformat(week))
        row = (
            f"| {week} | {record_cell(card['best_bets']['total'])} | {record_cell(card['candidates']['total'])} "
            f"| {len(card['alerts'])} |"
        )
        assert row in metadata["weeks"].value, (row, metadata["weeks"].value)
    assert metadata["card (week of 2025-12-01)"].value == format_report_card(card)


def test_the_replay_leaves_a_report_card_per_week_in_the_ui(home):
    from dagster import AssetKey

    from bestbets_dagster.timeutil import mondays

    with home_instance(home) as instance:
        cards = instance.get_materialized_partitions(AssetKey("weekly_report_card"))
    weeks = mondays(pd.Timestamp(START).date(), pd.Timestamp(END).date())
    assert cards == {str(week) for week in weeks} and len(weeks) == 7


def test_bestbets_picks_prints_the_card_of_a_day_and_its_page_beside_the_json(home, warehouse):
    picks = warehouse.read("signal_best_bets_picks", "2025-11-18", "2025-11-18").sort_values("rank")
    out = run_cli(home, "picks", "--date", "2025-11-18", timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    first = picks.iloc[0]
    assert text.startswith("Card for 2025-11-18: ")
    assert f"#1 {first['tier'].upper():5} {first['player_name']} (" in text
    assert (
        f"{first['recommendation']} {float(first['bet_line']):g} at {first['bet_book']} {int(first['bet_price']):+d}"
        in text
    )
    assert f"{int(first['market_books'])} other books, consensus line" in text
    assert f"break-even {100 * first['break_even']:.1f}%" in text and f"EV {first['expected_value']:+.3f} u" in text
    assert f"source: {first['source_model_family']} ({first['source_model_id']}, state " in text
    assert "tip-off " in text and " ET)" in text
    assert "record before today: value: " in text and "lean: " in text
    # --json is the export itself; the HTML page sits beside it.
    doc = json.loads(run_cli(home, "picks", "--date", "2025-11-18", "--json", timeout=300).stdout)
    assert [p["player"] for p in doc["picks"]] == picks["player_name"].tolist()
    page = (home / "artifacts" / "signal-best-bets" / "2025-11-18.html").read_text()
    assert html.escape(first["player_name"]) in page and "<table>" in page
    # Without a date: the newest card, saying today has none.
    newest = run_cli(home, "picks", timeout=300)
    assert newest.returncode == 0 and "has no card; the newest is of 2025-12-06" in newest.stdout
    missing = run_cli(home, "picks", "--date", "2025-12-30", timeout=300)
    assert missing.returncode == 1 and "no card for 2025-12-30" in missing.stderr
