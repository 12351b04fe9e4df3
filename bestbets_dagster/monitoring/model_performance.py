"""model_performance_daily: rolling hit rates and the state machine per model, and the alerts.

Rows are keyed by model_id, the key the predictions carry, so nothing goes unmatched (the original's
registry ids did not match its graded system ids and the table got 0 rows for a week). A bet is an
OVER/UNDER prediction at |edge| >= 3; a push or a void is not decided and is neither a win nor a loss
(the original counted them as losses).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.betting import BREAKEVEN_HIT_RATE, payout

EDGE = 3.0
MIN_N_7D = 5
BLOCKED_BELOW, ALERT_BELOW, WATCH_BELOW = BREAKEVEN_HIT_RATE, 55.0, 58.0  # blocked: below break-even at -110
SEVERITY = {"INSUFFICIENT_DATA": 0, "HEALTHY": 0, "WATCH": 1, "DEGRADING": 2, "BLOCKED": 3}
CHALLENGER_MARGIN, CHALLENGER_MIN_N = 5.0, 30
STALE_DAYS = 7


def state_of(hr_7d: float, n_7d: int) -> str:
    if n_7d < MIN_N_7D or pd.isna(hr_7d):
        return "INSUFFICIENT_DATA"
    if hr_7d < BLOCKED_BELOW:
        return "BLOCKED"
    if hr_7d < ALERT_BELOW:
        return "DEGRADING"
    if hr_7d < WATCH_BELOW:
        return "WATCH"
    return "HEALTHY"


def _bets(accuracy: pd.DataFrame) -> pd.DataFrame:
    a = accuracy.assign(game_date=pd.to_datetime(accuracy["game_date"]).astype("datetime64[ns]"))
    a = a[a["recommendation"].isin(["OVER", "UNDER"]) & (pd.to_numeric(a["edge"]).abs() >= EDGE)].copy()
    a["decided"] = a["prediction_correct"].notna()
    a["win"] = a["prediction_correct"].astype("boolean").fillna(False).astype(bool) & a["decided"]
    price = np.where(a["recommendation"] == "OVER", a["line_over_price"], a["line_under_price"]).astype(float)
    a["units"] = np.where(a["win"], payout(price), np.where(a["decided"], -1.0, 0.0))
    return a


class _Record:
    """A model's decided bets by date, for the rolling windows of any day: counts and wins from
    cumulative sums instead of filtering the bets once per window per day."""

    def __init__(self, decided: pd.DataFrame):
        order = np.argsort(decided["game_date"].to_numpy(dtype="datetime64[ns]"), kind="stable")
        self.dates = decided["game_date"].to_numpy(dtype="datetime64[ns]")[order]
        self.wins = np.concatenate([[0], np.cumsum(decided["win"].to_numpy(dtype=bool)[order])])

    def window(self, first: np.datetime64, last: np.datetime64, first_inclusive: bool) -> tuple[int, float]:
        """(decided bets, hit rate in percent or NaN) with game_date in [first, last], or in (first, last]
        when not first_inclusive."""
        lo = np.searchsorted(self.dates, first, side="left" if first_inclusive else "right")
        hi = np.searchsorted(self.dates, last, side="right")
        n = int(hi - lo)
        return n, 100.0 * ((self.wins[hi] - self.wins[lo]) / n) if n else np.nan


def _rolling(record: _Record, day: pd.Timestamp) -> dict:
    out = {}
    last = np.datetime64(day, "ns")
    for n in (7, 14):
        out[f"rolling_n_{n}d"], out[f"rolling_hr_{n}d"] = record.window(last - np.timedelta64(n, "D"), last, False)
    out["rolling_n_30d"], out["rolling_hr_30d"] = record.window(last - np.timedelta64(30, "D"), last, True)
    return out


def model_performance(accuracy: pd.DataFrame, registry: pd.DataFrame, dates, computed_at: pd.Timestamp) -> pd.DataFrame:
    """One row per date in `dates` and model that predicted (and was graded) on it.

    accuracy: graded predictions of every family from before each model's first date through the
    last date (the counters and actions run over each model's whole life, so a date computed alone
    or within a range is the same); registry: model_id, training_end_date."""
    wanted = {pd.Timestamp(d) for d in dates}
    bets = _bets(accuracy)
    graded_days = accuracy.assign(game_date=pd.to_datetime(accuracy["game_date"]).astype("datetime64[ns]"))
    graded_days = graded_days[["game_date", "model_id", "model_family", "model_status"]].drop_duplicates(
        ["game_date", "model_id"]
    )
    trained = dict(zip(registry["model_id"], pd.to_datetime(registry["training_end_date"])))
    rows = []
    bets_of = {model_id: mine for model_id, mine in bets.groupby("model_id", sort=False)}  # split once
    for model_id, days in graded_days.sort_values("game_date").groupby("model_id"):
        mine = bets_of.get(model_id, bets.iloc[0:0])
        record = _Record(mine[mine["decided"]])
        mine_on = {day: of_day for day, of_day in mine.groupby("game_date", sort=False)}
        previous_state, below_watch, below_alert = None, 0, 0
        for day in days.itertuples(index=False):
            if day.game_date > max(wanted, default=day.game_date):
                break
            figures = _rolling(record, day.game_date)
            state = state_of(figures["rolling_hr_7d"], figures["rolling_n_7d"])
            hr7 = figures["rolling_hr_7d"]
            judged = state != "INSUFFICIENT_DATA"
            below_watch = below_watch + 1 if judged and hr7 < WATCH_BELOW else 0
            below_alert = below_alert + 1 if judged and hr7 < ALERT_BELOW else 0
            action, reason = "NO_CHANGE", None
            before = previous_state or "INSUFFICIENT_DATA"
            if state in ("WATCH", "DEGRADING", "BLOCKED") and SEVERITY[state] > SEVERITY[before]:
                action, reason = (
                    "DEGRADED",
                    f"{before} -> {state}: 7-day HR {hr7:.1f}% on {figures['rolling_n_7d']} bets",
                )
            elif state == "HEALTHY" and before in ("WATCH", "DEGRADING", "BLOCKED"):
                action, reason = (
                    "RECOVERED",
                    f"{before} -> HEALTHY: 7-day HR {hr7:.1f}% on {figures['rolling_n_7d']} bets",
                )
            previous_state = state
            if day.game_date not in wanted:
                continue
            today = mine_on.get(day.game_date, mine.iloc[0:0])
            decided_today = today[today["decided"]]
            wins = int(decided_today["win"].sum())
            units = float(today["units"].sum())
            end = trained.get(model_id)
            rows.append(
                {
                    "game_date": day.game_date,
                    "model_id": model_id,
                    "model_family": day.model_family,
                    "model_status": day.model_status,
                    **figures,
                    "daily_picks": len(decided_today),
                    "daily_wins": wins,
                    "daily_losses": len(decided_today) - wins,
                    "daily_hr": 100.0 * wins / len(decided_today) if len(decided_today) else np.nan,
                    "daily_units": units if len(today) else np.nan,
                    "daily_roi": 100.0 * units / len(decided_today) if len(decided_today) else np.nan,
                    "state": state,
                    "consecutive_days_below_watch": below_watch,
                    "consecutive_days_below_alert": below_alert,
                    "action": action,
                    "action_reason": reason,
                    "days_since_training": (day.game_date - end).days if end is not None and not pd.isna(end) else None,
                    "computed_at": computed_at,
                }
            )
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).sort_values(["game_date", "model_id"]).reset_index(drop=True)


def alerts(
    performance: pd.DataFrame,
    signal_health: pd.DataFrame,
    staleness: pd.DataFrame,
    champion_family: str,
    created_at: pd.Timestamp,
) -> pd.DataFrame:
    """The operator's alerts of each date: a model entering BLOCKED (ERROR) or DEGRADING (WARN), a
    signal turning COLD, a challenger 5+ points above the champion family's model on N >= 30 in 7
    days, and families whose newest model was trained 7+ days before (staleness: game_date,
    model_family, age_days)."""
    rows = []
    for r in performance.itertuples(index=False):
        if r.action == "DEGRADED" and r.state in ("BLOCKED", "DEGRADING"):
            rows.append(
                (r.game_date, "model_state", r.model_id, "ERROR" if r.state == "BLOCKED" else "WARN", r.action_reason)
            )
    for r in signal_health.itertuples(index=False):
        if r.regime == "COLD" and r.days_in_current_regime == 1:
            rows.append(
                (
                    r.game_date,
                    "signal_cold",
                    r.signal_tag,
                    "WARN",
                    f"{r.signal_tag} turned COLD: 7-day HR {r.hr_7d:.1f}% vs season {r.hr_season:.1f}% "
                    f"({r.picks_7d} picks)",
                )
            )
    for day, models in performance.groupby("game_date"):
        champion = models[models["model_family"] == champion_family]
        if champion.empty or pd.isna(champion["rolling_hr_7d"].iloc[0]):
            continue
        base = champion.iloc[0]
        better = models[
            (models["model_family"] != champion_family)
            & (models["rolling_n_7d"] >= CHALLENGER_MIN_N)
            & (models["rolling_hr_7d"] >= base["rolling_hr_7d"] + CHALLENGER_MARGIN)
        ]
        for c in better.itertuples(index=False):
            rows.append(
                (
                    day,
                    "challenger",
                    c.model_id,
                    "WARN",
                    f"{c.model_id} {c.rolling_hr_7d:.1f}% on {c.rolling_n_7d} bets beats {base['model_id']} "
                    f"{base['rolling_hr_7d']:.1f}% over 7 days",
                )
            )
    for s in staleness.itertuples(index=False):
        if s.age_days >= STALE_DAYS:
            newer_failed = int(getattr(s, "newer_failed", 0) or 0)
            if newer_failed:
                # Retraining runs and the gates reject: the serving model stays on purpose (WARN).
                severity = "WARN"
                message = (
                    f"served by a model {s.age_days} days past its training cutoff: the {newer_failed} newer "
                    f"weekly model(s) (newest cutoff {pd.Timestamp(s.newest_failed_cutoff):%Y-%m-%d}) failed their "
                    "gates"
                )
            else:
                severity = "ERROR" if s.age_days >= 15 else "WARN"
                message = (
                    f"served by a model {s.age_days} days past its training cutoff, and no newer model was trained"
                )
            rows.append((s.game_date, "stale_family", s.model_family, severity, message))
    frame = pd.DataFrame(rows, columns=["game_date", "alert_type", "subject", "severity", "message"])
    return frame.assign(created_at=created_at)
