"""The betting math on small hand-made frames: every figure here is worked by hand in its comment."""

import math

import numpy as np
import pandas as pd
import pytest

from bestbets_dagster import betting


def test_an_american_price_pays_what_it_says():
    # +150: 150 won per 100 staked; -120: 100 won per 120 staked; 0 and missing prices pay nothing known.
    paid = betting.payout([150, -120, -100, 0, np.nan])
    assert paid[:3] == pytest.approx([1.5, 100 / 120, 1.0])
    assert np.isnan(paid[3:]).all()


def test_break_even_is_the_implied_probability_and_52_4_percent_at_minus_110():
    assert betting.break_even([-110, 150, -200]) == pytest.approx([110 / 210, 100 / 250, 200 / 300])
    assert betting.BREAKEVEN_HIT_RATE == 52.4
    # price_of inverts break_even on both sides of even money.
    assert betting.price_of(betting.break_even([-110, 150, -200])) == pytest.approx([-110, 150, -200])


def test_no_vig_removes_the_books_margin_from_its_two_prices():
    # -110/-110: 1/2 each; -150/+130: 0.6 and 0.4348 implied, 0.5798 once the 3.5% margin is removed.
    assert betting.no_vig_over([-110, -150], [-110, 130]) == pytest.approx([0.5, 0.6 / (0.6 + 100 / 230)])
    assert np.isnan(betting.no_vig_over([np.nan], [-110])).all()
    # A pick'em app's (nominal) prices say nothing of the side: 1/2.
    assert betting.book_p_over([-150, -150], [130, 130], [False, True]) == pytest.approx([0.5798, 0.5], abs=1e-4)


def test_expected_value_per_unit_staked():
    # 55% at -110: 0.55 x 0.9091 - 0.45 = +0.05; 50% at -110 loses the vig; 40% at +150 is even.
    assert betting.expected_value([0.55, 0.50, 0.40], [-110, -110, 150]) == pytest.approx(
        [0.55 * 100 / 110 - 0.45, 0.5 * 100 / 110 - 0.5, 0.0]
    )


def test_settling_bets_win_lose_push_and_void():
    over = pd.Series([True, True, False, True, False, True])
    actual = pd.Series([30.0, 20.0, 20.0, 24.5, 30.0, 0.0])
    line = pd.Series([24.5, 24.5, 24.5, 24.5, 24.5, 24.5])
    price = pd.Series([-110.0, -110.0, 120.0, -110.0, np.nan, -110.0])
    void = pd.Series([False, False, False, False, False, True])
    result, units = betting.settle(over, actual, line, price, void)
    assert result.tolist() == ["WIN", "LOSS", "WIN", "PUSH", "LOSS", "VOID"]
    assert units.tolist()[:5] == pytest.approx([100 / 110, -1.0, 1.2, 0.0, -1.0])
    assert units.tolist()[5] == 0.0
    # A win at a missing price has no units (not a made-up payout).
    result, units = betting.settle(over[:1], actual[:1], line[:1], pd.Series([np.nan]), void[:1])
    assert result.tolist() == ["WIN"] and units.isna().all()


def test_the_wilson_interval_of_a_hit_rate():
    low, high = betting.wilson_interval(55, 100)
    assert (round(low, 4), round(high, 4)) == (0.4524, 0.6439)
    assert betting.wilson_interval(0, 0) == (None, None)


def test_a_recommendation_needs_the_edge_on_either_side():
    edge = pd.Series([3.0, 2.99, -3.0, -0.5], index=[7, 8, 9, 10])
    assert betting.recommend(edge, 3.0).to_dict() == {7: "OVER", 8: "PASS", 9: "UNDER", 10: "PASS"}


def test_the_player_tiers_by_line_and_by_season_average():
    lines = [30.5, 25.0, 24.5, 18.0, 17.5, 12.0, 11.5, 0.5, np.nan]
    assert betting.tier_of(lines).tolist() == [
        "star",
        "star",
        "starter",
        "starter",
        "role",
        "role",
        "bench",
        "bench",
        None,
    ]
    averages = [26.0, 15.0, 14.9, 5.0, 4.9]
    assert betting.tier_of(averages, betting.SEASON_AVERAGE_TIERS).tolist() == [
        "stars",
        "starters",
        "role",
        "role",
        "bench",
    ]


def test_a_pickem_entry_breaks_even_where_it_returns_the_stake():
    # power_2 pays 3x for 2 of 2: p^2 x 3 = 1.
    assert betting.entry_break_even("power_2") == pytest.approx(math.sqrt(1 / 3))
