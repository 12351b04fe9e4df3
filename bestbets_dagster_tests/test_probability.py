"""Win probabilities: the logistic calibration, its prior, its time rule, and expected value."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bestbets_dagster.bestbets.probability import (
    Calibration,
    calibrations,
    fit_logistic,
    logit,
    walk_forward_probabilities,
)
from bestbets_dagster.betting import expected_value, no_vig_over


def _graded(n: int, b: float, seed: int, day: str = "2025-11-10", family: str = "v9_mae") -> pd.DataFrame:
    """n graded predictions whose outcome follows P(over) = logistic(b z) at even prices."""
    rng = np.random.default_rng(seed)
    line = rng.choice([8.5, 12.5, 18.5, 24.5, 30.5], n)
    edge = rng.normal(0, 3, n)
    z = edge / np.sqrt(line)
    over = rng.random(n) < 1 / (1 + np.exp(-b * z))
    return pd.DataFrame(
        {
            "game_date": pd.Timestamp(day),
            "model_family": family,
            "predicted_points": line + edge,
            "line_value": line,
            "actual_points": np.where(over, np.ceil(line), np.floor(line)),
            "is_voided": False,
            "line_over_price": -110,
            "line_under_price": -110,
            "line_book": "draftkings",
            "market_p_over": 0.5,  # the other books' consensus: even
        }
    )


def test_the_fit_recovers_an_informative_edge_and_the_prior_holds_a_few_rows_to_the_book():
    many = _graded(40_000, b=1.5, seed=1)
    x = np.column_stack(
        [
            (many["predicted_points"] - many["line_value"]) / np.sqrt(many["line_value"]),
            logit(no_vig_over(many["line_over_price"], many["line_under_price"])),
        ]
    )
    a, b, c = fit_logistic(x, (many["actual_points"] > many["line_value"]).to_numpy(float))
    assert abs(a) < 0.05 and b == pytest.approx(1.5, abs=0.1)
    few = many.head(60)
    _, b_few, c_few = fit_logistic(x[:60], (few["actual_points"] > few["line_value"]).to_numpy(float))
    # 60 rows against a prior worth 1000: the slope stays near the book's 0, the market weight near 1.
    assert abs(b_few) < 0.5 and c_few == pytest.approx(1.0, abs=0.01)


def test_the_book_s_prices_are_its_probability():
    assert logit(no_vig_over(-110, -110)) == pytest.approx(0.0)
    # -150 / +130: implied 0.600 and 0.435, no-vig P(over) 0.580.
    q = 0.6 / (0.6 + 100 / 230)
    assert logit(no_vig_over(-150, 130)) == pytest.approx(np.log(q / (1 - q)))
    assert logit(no_vig_over(np.nan, -110)) == 0.0
    # A family that knows nothing gets the market's probability back.
    cal = Calibration("f", 0.0, 0.0, 1.0, 1000, dt.date(2025, 11, 1), dt.date(2025, 11, 9))
    assert cal.p_over([20.0], [20.5], [q])[0] == pytest.approx(q)


def test_a_date_is_calibrated_on_earlier_rows_only_and_needs_enough_of_them():
    # Two halves of the 60-day window: the edge's weight is fitted on the first and must beat the market
    # on the second before it counts.
    before = pd.concat([_graded(1000, b=1.5, seed=2, day="2025-10-01"), _graded(1000, b=1.5, seed=4, day="2025-11-09")])
    same_day = _graded(2000, b=-3.0, seed=3, day="2025-11-10")  # would flip the slope if it were read
    fitted = calibrations(pd.concat([before, same_day]), dt.date(2025, 11, 10))
    assert fitted["v9_mae"].b > 0.5 and fitted["v9_mae"].n == 2000 and fitted["v9_mae"].earned
    assert (fitted["v9_mae"].first_day, fitted["v9_mae"].last_day) == (dt.date(2025, 10, 1), dt.date(2025, 11, 9))
    assert fitted["v9_mae"].c == 1.0  # the market's log-odds are an offset
    assert calibrations(before.head(299), dt.date(2025, 11, 10)) == {}
    # An edge that carries nothing does not earn a weight: the market's probability stands.
    noise = pd.concat([_graded(1000, b=0.0, seed=5, day="2025-10-01"), _graded(1000, b=0.0, seed=6, day="2025-11-09")])
    flat = calibrations(noise, dt.date(2025, 11, 10))["v9_mae"]
    assert (flat.a, flat.b, flat.earned) == (0.0, 0.0, False)
    # 60 days back at most.
    assert calibrations(before, dt.date(2026, 1, 9)) == {}
    rows = walk_forward_probabilities(pd.concat([before, same_day]), [dt.date(2025, 11, 10)])
    assert len(rows) == 2000 and rows["p_over"].between(0, 1).all() and (rows["calibration_n"] == 2000).all()


def test_expected_value_is_per_unit_staked_at_the_american_price():
    assert expected_value(0.5, 100) == pytest.approx(0.0)
    assert expected_value(0.55, -110) == pytest.approx(0.55 * 100 / 110 - 0.45)
    assert expected_value(0.4, 150) == pytest.approx(0.4 * 1.5 - 0.6)
    assert np.isnan(expected_value(0.6, np.nan))


def test_the_reliability_table_bins_by_tenth_of_p_and_judges_bins_of_100_rows():
    from bestbets_dagster.grading.report import calibration_by_quantile, calibration_table, calibration_verdict

    # 600 rows at P 0.45 that go over 270 times (45%), 400 at P 0.62 that go over 220 times (55%),
    # 40 at P 0.95 that all go over; a player-game priced by two families counts once in p-games.
    p = np.r_[np.full(600, 0.45), np.full(400, 0.62), np.full(40, 0.95)]
    over = np.r_[np.arange(600) < 270, np.arange(400) < 220, np.ones(40, bool)]
    rows = pd.DataFrame(
        {
            "game_date": pd.Timestamp("2025-11-10"),
            "player_lookup": [f"p{i % 520}" for i in range(len(p))],
            "p_over": p,
            "line_value": 20.5,
            "actual_points": np.where(over, 25.0, 15.0),
            "is_voided": False,
        }
    )
    table = calibration_table(rows)
    assert [(r["bin"], r["n"], r["judged"]) for r in table] == [
        ("[0.4, 0.5)", 600, True),
        ("[0.6, 0.7)", 400, True),
        ("[0.9, 1.0)", 40, False),
    ]
    assert [r["gap_points"] for r in table] == [0.0, -7.0, 5.0]
    assert table[0]["player_games"] == 520
    verdict = calibration_verdict(table)
    assert verdict == {"min_n": 100, "bins_judged": 2, "rows_judged": 1000, "max_abs_gap_points": 7.0}
    deciles = calibration_by_quantile(rows)
    assert [r["decile"] for r in deciles] == list(range(1, 11)) and sum(r["n"] for r in deciles) == len(rows)
    # A push or a player who did not play is no outcome: left out.
    pushed = rows.assign(actual_points=np.r_[[20.5] * 10, rows["actual_points"][10:]])
    assert calibration_table(pushed)[0]["n"] == 590


def test_pickem_entries_break_even_where_the_payout_returns_the_stake():
    from bestbets_dagster.betting import PICKEM_ENTRIES, entry_break_even, price_of

    assert entry_break_even("power_2") == pytest.approx(3**-0.5)  # p^2 x 3 = 1
    assert entry_break_even("power_3") == pytest.approx(5 ** (-1 / 3))
    # flex_5: 10 p^5 + 2 x 5 p^4 (1 - p) + 0.4 x 10 p^3 (1 - p)^2 = 1 at 54.25%
    p = entry_break_even("flex_5")
    assert 10 * p**5 + 10 * p**4 * (1 - p) + 4 * p**3 * (1 - p) ** 2 == pytest.approx(1.0)
    assert round(p, 4) == 0.5425
    assert float(price_of(3**-0.5)) == pytest.approx(-136.6, abs=0.05)
    assert float(price_of(0.4)) == pytest.approx(150.0)
    assert set(PICKEM_ENTRIES) >= {"power_2", "power_6", "flex_3", "flex_6"}


def test_the_market_is_the_other_books_no_vig_consensus_at_the_bet_s_line():
    from bestbets_dagster.bestbets.clv import p_over_at
    from bestbets_dagster.bestbets.market import consensus

    key = {"game_date": pd.Timestamp("2025-11-18"), "person_id": 1}
    offers = pd.DataFrame(
        [
            {**key, "bookmaker": "draftkings", "line": 24.5, "over_price": -110, "under_price": -110},
            {**key, "bookmaker": "fanduel", "line": 25.5, "over_price": -120, "under_price": 100},
            {**key, "bookmaker": "betmgm", "line": 24.5, "over_price": -125, "under_price": 105},
            {**key, "bookmaker": "prizepicks", "line": 23.5, "over_price": -137, "under_price": -137},
        ]
    )
    out = consensus(offers, offers, nominal_books=("prizepicks",))
    no_vig = lambda o, u: o / (o + u)  # noqa: E731
    fd = no_vig(120 / 220, 100 / 200)
    mgm = no_vig(125 / 225, 100 / 205)
    # DraftKings' bet: FanDuel's and BetMGM's P moved to 24.5, their median; PrizePicks is not a sportsbook.
    expected = np.median([p_over_at(fd, 25.5, 24.5), p_over_at(mgm, 24.5, 24.5)])
    assert out.loc[0, "market_p_over"] == pytest.approx(float(expected)) and out.loc[0, "market_books"] == 2
    assert out.loc[0, "market_line"] == 25.0
    # PrizePicks' bet is priced by the three sportsbooks at its own line.
    assert out.loc[3, "market_books"] == 3 and out.loc[3, "market_p_over"] > out.loc[0, "market_p_over"]
    # With no sportsbook, the other pick'em app at 1/2 on its line; alone, the book's own price.
    apps = offers.iloc[[3]].assign(bookmaker="prizepicks")
    apps = pd.concat([apps, apps.assign(bookmaker="underdog", line=24.5)], ignore_index=True)
    both = consensus(apps, apps, nominal_books=("prizepicks", "underdog"))
    assert both.loc[0, "market_p_over"] == pytest.approx(float(p_over_at(0.5, 24.5, 23.5)))
    alone = consensus(offers.iloc[[1]], offers.iloc[[1]], nominal_books=("prizepicks",))
    assert alone.loc[1, "market_books"] == 0 and alone.loc[1, "market_p_over"] == pytest.approx(fd)
