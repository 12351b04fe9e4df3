"""The read-only views: `bestbets picks` (the day's card as exported), `bestbets config` (the rules and how
each stands), `bestbets report-card` (the week's record) and `bestbets signal-backtest`."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from bestbets_dagster.bestbets.card import newest_card_date
from bestbets_dagster.commands.options import DATE, date_range, home_options
from bestbets_dagster.commands.session import warehouse

NO_CARD = "no card for {day}: its picks were not materialized (run the daily cycle, or `bestbets replay`)"


def show_picks(day: dt.date | None, as_json: bool, today: dt.date, warehouse, artifacts) -> tuple[int, str]:
    """(exit code, text): the card of `day`; without one, today's card when today has a slate, else the
    newest card's, saying so."""
    from bestbets_dagster.bestbets.card import card_text
    from bestbets_dagster.bestbets.export import export_key

    note = ""
    if day is None:
        if artifacts.exists(export_key(today)):
            day = today
        else:
            day = newest_card_date(warehouse, today)
            if day is None:
                return (
                    1,
                    "no card yet: the warehouse holds no best-bets decision (run `bestbets replay` or the daily cycle)",
                )
            note = f"today ({today}) has no card; the newest is of {day}:\n\n"
    if not artifacts.exists(export_key(day)):
        return 1, NO_CARD.format(day=day)
    doc = json.loads(artifacts.get(export_key(day)))
    return 0, (json.dumps(doc, indent=1) if as_json else note + card_text(doc))


@click.command(help="the day's card: each pick with its price, the market's view, P(win), EV and tier")
@home_options
@click.option("--date", "day", type=DATE, help="a game date (default: today's card, else the newest one)")
@click.option("--json", "as_json", is_flag=True, help="print the export's JSON instead of the card")
def picks(day: dt.date | None, as_json: bool) -> int:
    from bestbets_dagster import settings
    from bestbets_dagster.defs.resources import resources_for_env
    from bestbets_dagster.timeutil import today_eastern

    artifacts = resources_for_env(settings.bestbets_env())["artifacts"]
    code, text = show_picks(day, as_json, today_eastern(), warehouse(), artifacts)
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _newest_day_with_data(store, today: dt.date) -> dt.date:
    """Today, when the warehouse has a best-bets decision for it; else the newest date that has one,
    said on stderr (a replay's warehouse ends long before today)."""
    newest = newest_card_date(store, today)
    if newest is None or newest == today:
        return today
    print(f"today ({today}) has no data; as of the newest date with best bets, {newest}", file=sys.stderr)
    return newest


@click.command(help="the best-bets rules and how each stands: families, filters, signals, combos")
@home_options
@click.option("--date", "day", type=DATE, help="as of this game date (default: today, US Eastern)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of Markdown")
def config(day: dt.date | None, as_json: bool) -> int:
    from bestbets_dagster.bestbets.dashboard import dashboard_from_warehouse, format_dashboard
    from bestbets_dagster.resources import BestBetsSettings
    from bestbets_dagster.timeutil import today_eastern

    store = warehouse()
    view = dashboard_from_warehouse(
        store, BestBetsSettings().config(), day or _newest_day_with_data(store, today_eastern())
    )
    print(json.dumps(view, indent=1, default=str) if as_json else format_dashboard(view))
    return 0


@click.command("report-card", help="the week's report card: hit rate and units by direction, tier, family, signal")
@home_options
@click.option("--week", type=DATE, help="any date of the week (default: last week, US Eastern)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of Markdown")
def report_card(week: dt.date | None, as_json: bool) -> int:
    from bestbets_dagster.grading.report_card import format_report_card, report_card_from_warehouse
    from bestbets_dagster.resources import BestBetsSettings
    from bestbets_dagster.timeutil import monday_of, today_eastern

    store = warehouse()
    monday = monday_of(week or _newest_day_with_data(store, today_eastern()) - dt.timedelta(days=7))
    card = report_card_from_warehouse(store, BestBetsSettings().config(), monday)
    print(json.dumps(card, indent=1) if as_json else format_report_card(card))
    return 0


@click.command("signal-backtest", help="hit rate and N per signal, direction and window on graded data")
@home_options
@date_range(required=True)
@click.option("--signal", help="one signal tag (default: every signal, prototypes included)")
@click.option("--window-days", type=int, default=14, help="days per window (default 14)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of the table")
def signal_backtest(start: dt.date, end: dt.date, signal: str | None, window_days: int, as_json: bool) -> int:
    from bestbets_dagster.bestbets.history import graded_candidates
    from bestbets_dagster.signals.backtest import format_backtest
    from bestbets_dagster.signals.backtest import signal_backtest as backtest

    store = warehouse()
    tags = store.read("pick_signal_tags", start, end)
    if tags.empty:
        raise SystemExit(f"no pick_signal_tags rows in {start}..{end}: materialize best_bets_job first")
    graded = graded_candidates(tags, store.read("prediction_accuracy", start, end))
    try:
        results = backtest(graded, start, end, signal, window_days)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(json.dumps(results, indent=1) if as_json else format_backtest(results))
    return 0
