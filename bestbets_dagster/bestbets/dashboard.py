"""The best-bets config view: the running rules and how each piece of them stands as of a day, in
six sections (the reference system's config dashboard) - the aggregator's settings and versions;
the enabled families with their serving model, its age, state and Phase B weight; the negative filters with what
they rejected lately and how those rejections would have done; the signals with their regime, hit
rate and per-family profile; the combo registry; and consistency checks. Plain pandas: the CLI prints it, the
`best_bets_config` asset shows it in the UI."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bestbets_dagster.bestbets.aggregator import FILTERS, NEGATIVE_FILTERS
from bestbets_dagster.bestbets.clv import summarize_clv
from bestbets_dagster.bestbets.config import ALGORITHM_VERSION, BestBetsConfig
from bestbets_dagster.bestbets.history import graded_candidates
from bestbets_dagster.bestbets.pipeline import model_states_as_of
from bestbets_dagster.bestbets.profiles import describe_profile
from bestbets_dagster.bestbets.sourcing import SOURCING_LOOKBACK_DAYS, sourcing_weights
from bestbets_dagster.models.families import Family
from bestbets_dagster.models.serving import model_for_date
from bestbets_dagster.signals.combos import COMBOS
from bestbets_dagster.signals.registry import SIGNALS
from bestbets_dagster.timeutil import season_start

FILTER_LOOKBACK_DAYS = 30  # the window of "recently rejected" in the filter section


def filter_rows(audit: pd.DataFrame, accuracy: pd.DataFrame, config: BestBetsConfig | None = None) -> list[dict]:
    """Per negative filter: what it rejects, how many candidates it rejected in the audit rows given,
    and the hit rate those rejected bets would have had (graded at the selected line on the source
    family's prediction: a filter whose rejects win often costs picks)."""
    graded = (
        audit.merge(
            accuracy.rename(columns={"model_family": "source_model_family"})[
                ["game_date", "person_id", "source_model_family", "actual_points", "line_value", "is_voided"]
            ].assign(game_date=lambda d: pd.to_datetime(d["game_date"])),
            on=["game_date", "person_id", "source_model_family"],
            how="left",
        )
        if len(audit)
        else audit.assign(actual_points=[], line_value=[], is_voided=[])
    )
    actual, line = graded["actual_points"].astype(float), graded["line_value"].astype(float)
    decided = actual.notna() & (actual != line) & ~graded["is_voided"].fillna(False).astype(bool)
    won = (actual > line) == (graded["recommendation"] == "OVER")
    described = {f.name: f.describe(config or BestBetsConfig()) for f in FILTERS}
    rows = []
    for name in NEGATIVE_FILTERS:
        mine = graded["filter_name"] == name
        n = int((mine & decided).sum())
        rows.append(
            {
                "filter": name,
                "rejects": described[name],
                "rejected": int(mine.sum()),
                "graded": n,
                "rejected_hit_rate": round(float(won[mine & decided].mean()), 4) if n else None,
            }
        )
    return rows


def family_rows(
    families: list[Family],
    registry: pd.DataFrame,
    performance: pd.DataFrame,
    day: dt.date,
    config: BestBetsConfig | None = None,
    graded_picks: pd.DataFrame | None = None,
):
    """Per enabled family: the model serving it on `day` (the promoted one, else the newest shadow,
    as predictions choose), the days since its training ended, its latest state from
    model_performance_daily before `day`, the Phase B sourcing weight that record gives it, and the
    closing line value of its picks (graded_picks: best_bets_accuracy of the 14 days before `day`)."""
    weights = sourcing_weights(
        model_states_as_of(day, performance, SOURCING_LOOKBACK_DAYS) if len(performance) else {},
        [f.model_family for f in families if f.enabled],
        config or BestBetsConfig(),
    )
    before = (
        performance[pd.to_datetime(performance["game_date"]) < pd.Timestamp(day)] if len(performance) else performance
    )
    latest = before.sort_values("game_date").groupby("model_family").tail(1).set_index("model_family")
    rows = []
    for family in families:
        if not family.enabled:
            continue
        model, serving_as = model_for_date(registry, family.model_family, day) if len(registry) else (None, None)
        end = None if model is None else model.get("training_end_date")
        rows.append(
            {
                "model_family": family.model_family,
                "serving_model": None if model is None else model["model_id"],
                "serving_as": serving_as,
                "model_age_days": None if end is None or pd.isna(end) else (pd.Timestamp(day) - pd.Timestamp(end)).days,
                "state": latest["state"].get(family.model_family) if len(latest) else None,
                "hit_rate_14d": weights[family.model_family]["hit_rate_14d"],
                "sourcing_weight": weights[family.model_family]["weight"],
                "picks_clv_14d": _family_clv(graded_picks, family.model_family),
            }
        )
    return rows


def _rounded(value, digits: int = 1):
    return None if value is None or pd.isna(value) else round(float(value), digits)


def signal_rows(health: pd.DataFrame, day: dt.date, config: BestBetsConfig | None = None) -> list[dict]:
    """Every signal (registered and prototype) with its regime and 14-day hit rate on the latest
    health day before `day`, and its per-family profile (the rules of config.signal_profiles that name it)."""
    rules = (config or BestBetsConfig()).signal_profiles
    before = health[pd.to_datetime(health["game_date"]) < pd.Timestamp(day)] if len(health) else health
    latest = before[before["game_date"] == before["game_date"].max()].set_index("signal_tag") if len(before) else before
    rows = []
    for signal in SIGNALS:
        known = len(latest) and signal.tag in latest.index
        rows.append(
            {
                "signal": signal.tag,
                "registered": signal.registered,
                "direction": signal.direction,
                "regime": latest.at[signal.tag, "regime"] if known else None,
                # The regime is judged on the 7-day rate against the season's (HOT: 10+ points above it and
                # at least break-even; COLD: 10+ below), so both are shown beside the 14-day rate.
                "hr_7d": _rounded(latest.at[signal.tag, "hr_7d"]) if known else None,
                "picks_7d": int(latest.at[signal.tag, "picks_7d"]) if known else 0,
                "hr_season": _rounded(latest.at[signal.tag, "hr_season"]) if known else None,
                "hr_14d": _rounded(latest.at[signal.tag, "hr_14d"]) if known else None,
                "picks_14d": int(latest.at[signal.tag, "picks_14d"]) if known else 0,
                "profile": describe_profile(rules, signal.tag) if signal.registered else "never used for picks",
                "description": signal.description,
            }
        )
    return rows


def consistency_checks(
    families: list[dict], signals: list[dict], config: BestBetsConfig, pick_config_versions: set[str]
) -> list[str]:
    """What does not add up: an enabled family with no serving model, a registered signal with no
    health rows, picks of the day made under another config_version than the running one."""
    problems = [f"{f['model_family']} is enabled but no model serves it" for f in families if not f["serving_model"]]
    problems += [
        f"signal {s['signal']} has no signal_health_daily row"
        for s in signals
        if s["registered"] and s["regime"] is None
    ]
    problems += [
        f"the day's picks were made with config {version}, the running config is {config.version}"
        for version in sorted(pick_config_versions - {config.version})
    ]
    return problems


def _family_clv(graded: pd.DataFrame | None, family: str) -> str:
    if graded is None or graded.empty:
        return "no picks"
    summary = summarize_clv(graded[graded["source_model_family"] == family])
    if not summary["n_picks"]:
        return "no picks"
    if not summary["measurable"]:
        return f"not measurable ({summary['n_picks']} picks: {summary['why']})"
    return (
        f"{summary['clv_probability'] * 100:+.1f} pts of P, {summary['clv_points']:+.2f} line "
        f"(n {summary['n_measured']})"
    )


def combo_records(season_candidates: pd.DataFrame | None):
    """combo id -> {this_season_hit_rate, this_season_n}: the decided candidates (at the selected line, on
    their side) that matched the combo this season before the view's day."""
    decided = (
        season_candidates[season_candidates["prediction_correct"].notna()]
        if season_candidates is not None and len(season_candidates)
        else pd.DataFrame(columns=["matched_combo_id", "prediction_correct"])
    )
    won = decided["prediction_correct"].astype(bool)
    by_combo = won.groupby(decided["matched_combo_id"]).agg(["sum", "size"])

    def record(combo_id: str) -> dict:
        if combo_id not in by_combo.index:
            return {"this_season_hit_rate": None, "this_season_n": 0}
        wins, n = by_combo.loc[combo_id]
        return {"this_season_hit_rate": round(100.0 * wins / n, 1), "this_season_n": int(n)}

    return record


def config_dashboard(
    config: BestBetsConfig,
    families: list[Family],
    registry: pd.DataFrame,
    performance: pd.DataFrame,
    health: pd.DataFrame,
    audit: pd.DataFrame,
    accuracy: pd.DataFrame,
    pick_config_versions: set[str],
    day: dt.date,
    graded_picks: pd.DataFrame | None = None,
    season_candidates: pd.DataFrame | None = None,
) -> dict:
    """The six sections as of `day` (audit and accuracy: the filter window's rows; graded_picks: the
    best_bets_accuracy rows of the 14 days before, for each family's closing line value;
    season_candidates: the season's graded candidates before `day` (history.graded_candidates), for each
    combo's record measured on this data)."""
    family_section = family_rows(families, registry, performance, day, config, graded_picks)
    signal_section = signal_rows(health, day, config)
    combo_record = combo_records(season_candidates)
    return {
        "day": str(day),
        "aggregator": {
            "algorithm_version": ALGORITHM_VERSION,
            "config_version": config.version,
            "settings": [
                {"name": name, "value": value, "description": BestBetsConfig.describe(name)}
                for name, value in config.as_dict().items()
            ],
        },
        "families": family_section,
        "filters": filter_rows(audit, accuracy, config),
        "signals": signal_section,
        "combos": [
            {
                "combo": combo.combo_id,
                "classification": combo.classification,
                "status": combo.status,
                "direction": combo.direction_filter,
                # The original's published figures, carried over: not measured on this data.
                "original_hit_rate": combo.hit_rate,
                "original_n": combo.sample_size,
                **combo_record(combo.combo_id),
            }
            for combo in COMBOS
        ],
        "checks": consistency_checks(family_section, signal_section, config, pick_config_versions),
    }


def _markdown(rows: list[dict]) -> str:
    if not rows:
        return "(none)"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ("" if row[c] is None else str(row[c]).replace("|", "\\|") for c in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_dashboard(dashboard: dict) -> str:
    """The view as Markdown: what `bestbets config` prints and the asset shows."""
    aggregator = dashboard["aggregator"]
    checks = dashboard["checks"]
    return "\n\n".join(
        [
            f"# Best-bets config as of {dashboard['day']}",
            f"## 1. Aggregator\nalgorithm {aggregator['algorithm_version']}, config version "
            f"{aggregator['config_version']}\n\n" + _markdown(aggregator["settings"]),
            "## 2. Families\n" + _markdown(dashboard["families"]),
            f"## 3. Negative filters (rejections of the last {FILTER_LOOKBACK_DAYS} days, graded at the "
            "selected line)\n" + _markdown(dashboard["filters"]),
            "## 4. Signals (latest health day; hit rates of the candidates carrying the signal, decided at the "
            "selected line; the regime compares hr_7d with hr_season)\n" + _markdown(dashboard["signals"]),
            "## 5. Combos (original_*: the original's published figures, not measured here; this_season_*: the "
            "decided candidates that matched the combo this season, at the selected line)\n"
            + _markdown(dashboard["combos"]),
            "## 6. Consistency checks\n" + ("\n".join(f"- {p}" for p in checks) if checks else "all consistent"),
        ]
    )


def dashboard_from_warehouse(warehouse, config: BestBetsConfig, day: dt.date) -> dict:
    """The view as of `day` from the stored tables (`warehouse`: anything with the Warehouse's read)."""
    from bestbets_dagster.models.families import load_families

    since = day - dt.timedelta(days=FILTER_LOOKBACK_DAYS)
    before = day - dt.timedelta(days=1)
    picks = warehouse.read("signal_best_bets_picks", day, day, columns=["config_version"])
    return config_dashboard(
        config,
        load_families(warehouse),
        warehouse.read("model_registry"),
        warehouse.read("model_performance_daily", since, before),
        warehouse.read("signal_health_daily", since, before),
        warehouse.read("best_bets_filter_audit", since, before),
        warehouse.read("prediction_accuracy", since, before),
        set(picks["config_version"]),
        day,
        warehouse.read("best_bets_accuracy", day - dt.timedelta(days=14), before),
        graded_candidates(
            warehouse.read("pick_signal_tags", season_start(day), before),
            warehouse.read("prediction_accuracy", season_start(day), before),
        ),
    )
