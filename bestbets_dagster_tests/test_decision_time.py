"""Several snapshots a day: which lines a decision reads (its decision time), the closing line, and the
closing line value of a pick, on a few rows written out."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from bestbets_dagster.bestbets.clv import (
    MEASURED,
    POINTS_SD_PER_ROOT_LINE,
    break_even,
    closing_line_value,
    clv_alerts,
    no_vig_over,
    summarize_clv,
)
from bestbets_dagster.ingest.lines import (
    choose_decision_times,
    closing_lines,
    current_offers,
    lines_at_decision,
)

DAY = dt.date(2025, 11, 18)
TIP = pd.Timestamp("2025-11-19T00:10Z")  # 19:10 US Eastern
TEN, NOON, THREE = (pd.Timestamp(f"2025-11-18T{h}Z") for h in ("15:00", "17:00", "20:00"))
CLOSE = pd.Timestamp("2025-11-19T00:00Z")  # the closing snapshot, 10 minutes before tip-off
DECISION = pd.Timestamp("2025-11-18T17:30Z")  # the 12:30 slate


def _line(book, line, over, under, snapshot, person=203999):
    return {
        "game_date": pd.Timestamp(DAY),
        "event_id": "e1",
        "commence_time": TIP,
        "bookmaker": book,
        "person_id": person,
        "match_status": "resolved",
        "line": line,
        "over_price": over,
        "under_price": under,
        "snapshot_time": snapshot,
    }


@pytest.fixture()
def prop_lines() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _line("draftkings", 22.5, -110, -110, TEN),
            _line("draftkings", 23.0, -110, -110, NOON),  # moved before the decision
            _line("draftkings", 24.0, -115, -105, THREE),  # after it
            _line("draftkings", 24.5, -110, -110, CLOSE),  # the close
            _line("draftkings", 25.5, -110, -110, TIP + pd.Timedelta(minutes=5)),  # in play: never read
            _line("fanduel", 23.5, -105, -115, NOON),
            _line("fanduel", 24.5, -120, 100, CLOSE),
            _line("prizepicks", 23.5, -137, -137, NOON),
            _line("prizepicks", 24.5, -137, -137, CLOSE),
        ]
    )


def test_a_decision_reads_the_snapshots_at_or_before_its_time_and_a_replay_the_last_before_tip_off(prop_lines):
    at_decision = lines_at_decision(prop_lines, {DAY: DECISION})
    assert sorted(at_decision["snapshot_time"].unique()) == [TEN, NOON]
    latest = lines_at_decision(prop_lines, {DAY: None})
    assert latest["snapshot_time"].max() == CLOSE  # no decision time: up to tip-off, never after
    offers = current_offers(prop_lines, {DAY: DECISION}).set_index("bookmaker")
    assert offers.loc["draftkings", "line"] == 23.0 and offers.loc["fanduel", "line"] == 23.5


def test_the_closing_line_is_each_books_last_snapshot_before_tip_off(prop_lines):
    closing = closing_lines(prop_lines).set_index("bookmaker")
    assert closing.loc["draftkings", ["line", "over_price"]].tolist() == [24.5, -110]
    assert closing.loc["draftkings", "snapshot_time"] == CLOSE
    assert closing.loc["fanduel", "line"] == 24.5


def test_an_explicit_decision_wins_then_the_stored_one_then_now_for_today():
    now = pd.Timestamp("2025-11-18T18:05Z")
    days = [dt.date(2025, 11, 17), DAY, dt.date(2025, 11, 19)]
    stored = {dt.date(2025, 11, 17): None, DAY: DECISION}
    chosen = choose_decision_times(days, stored, today=DAY, now=now)
    # yesterday: stored as "no decision" (a replay); today: the slate's stored 12:30; tomorrow: now
    assert chosen == {days[0]: None, DAY: DECISION, days[2]: now}
    slate = pd.Timestamp("2025-11-18T12:30-05:00")
    assert choose_decision_times([DAY], {DAY: now}, today=DAY, now=now, slate=slate)[DAY] == DECISION
    replayed = choose_decision_times(days, {}, today=dt.date(2026, 1, 1), now=now, time_of_day=dt.time(12, 30))
    assert replayed[dt.date(2025, 11, 17)] == pd.Timestamp("2025-11-17T17:30Z")
    # a replay's time of day from its first date on; the history before it keeps no decision
    ranged = choose_decision_times(
        days, {}, today=dt.date(2026, 1, 1), now=now, time_of_day=dt.time(12, 30), time_of_day_from=DAY
    )
    assert ranged == {days[0]: None, DAY: DECISION, days[2]: pd.Timestamp("2025-11-19T17:30Z")}
    assert choose_decision_times(days, {}, today=dt.date(2026, 1, 1), now=now) == dict.fromkeys(days)


def _pick(direction="OVER", line=23.0, price=-110, book="draftkings"):
    return pd.DataFrame(
        [
            {
                "game_date": pd.Timestamp(DAY),
                "person_id": 203999,
                "recommendation": direction,
                "bet_book": book,
                "bet_line": line,
                "price": price,
            }
        ]
    )


def test_clv_of_an_over_bought_before_the_line_rose(prop_lines):
    clv = closing_line_value(_pick(), closing_lines(prop_lines), {DAY: DECISION}, nominal_books=("prizepicks",))
    row = clv.iloc[0]
    assert row["clv_status"] == MEASURED
    assert row["clv_points"] == pytest.approx(1.5)  # bought at 23.0, DraftKings closed at 24.5
    assert row["closing_line"] == 24.5 and row["closing_price"] == -110
    assert row["closing_consensus_line"] == 24.5  # DraftKings and FanDuel; PrizePicks' convention price left out
    # each sportsbook's no-vig P(over) at its closing line, moved to the bet's 23.0, then the median
    at_bet = [
        norm.cdf(norm.ppf(no_vig_over(o, u)) - (23.0 - 24.5) / (POINTS_SD_PER_ROOT_LINE * np.sqrt(24.5)))
        for o, u in ((-110, -110), (-120, 100))
    ]
    assert row["closing_no_vig_p"] == pytest.approx(float(np.median(at_bet)))
    assert row["clv_probability"] == pytest.approx(float(np.median(at_bet)) - float(break_even(-110)))
    assert row["clv_probability"] > 0.05  # a point and a half is worth several points of probability


def test_clv_of_an_under_is_the_other_side():
    prop_lines = pd.DataFrame(
        [_line("draftkings", 23.0, -110, -110, NOON), _line("draftkings", 24.5, -110, -110, CLOSE)]
    )
    row = closing_line_value(_pick("UNDER"), closing_lines(prop_lines), {DAY: DECISION}).iloc[0]
    assert row["clv_points"] == pytest.approx(-1.5) and row["clv_probability"] < 0


def test_clv_is_not_measurable_without_a_snapshot_after_the_decision_never_zero(prop_lines):
    one_a_day = prop_lines[prop_lines["snapshot_time"] == NOON]
    rows = closing_line_value(_pick(), closing_lines(one_a_day), {DAY: DECISION})
    assert rows.iloc[0]["clv_status"] == "not measurable: no snapshot of the book after the decision"
    assert pd.isna(rows.iloc[0]["clv_points"]) and pd.isna(rows.iloc[0]["clv_probability"])
    replayed = closing_line_value(_pick(), closing_lines(prop_lines), {DAY: None})
    assert replayed.iloc[0]["clv_status"].startswith("not measurable: no decision time")
    summary = summarize_clv(pd.concat([_pick(), replayed], axis=1))
    assert summary["measurable"] is False and summary["n_picks"] == 1


def test_monitoring_warns_the_day_the_14_day_clv_turns_negative():
    days = [DAY + dt.timedelta(days=i) for i in range(8)]
    results = pd.DataFrame(
        {
            "game_date": [pd.Timestamp(d) for d in days],
            "clv_status": MEASURED,
            # the mean of the days so far: +, +, +, +, then 0.04 -> -0.01 on day 5 (6 measured picks)
            "clv_probability": [0.02, 0.01, 0.01, 0.0, 0.0, -0.1, 0.0, 0.0],
        }
    )
    alerts = clv_alerts(results, days, pd.Timestamp("2025-11-30T12:00Z"))
    assert alerts["game_date"].tolist() == [pd.Timestamp(days[5])]
    assert alerts.iloc[0]["message"].startswith("the picks' 14-day closing line value turned negative: -1.0 points")
