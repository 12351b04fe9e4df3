"""The day's card as a person reads it, from the day's export document (bestbets.export): text for
`bestbets picks`, Markdown for the picks partition in the UI, and an HTML page beside the JSON
(`signal-best-bets/{date}.html`). One source, three renderings: what the card says is what was exported."""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd

from bestbets_dagster.timeutil import EASTERN


def newest_card_date(warehouse, today: dt.date) -> dt.date | None:
    """The newest game date up to today with a stored decision (best_bets_decisions)."""
    decisions = warehouse.read("best_bets_decisions", dt.date(2000, 1, 1), today, columns=["game_date"])
    return None if decisions.empty else max(decisions["game_date"]).date()


def html_key(day: dt.date) -> str:
    return f"signal-best-bets/{day:%Y-%m-%d}.html"


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _tipoff(text: str | None) -> str:
    return "tip-off unknown" if not text else f"tip-off {pd.Timestamp(text).tz_convert(EASTERN):%H:%M} ET"


def _game(pick: dict) -> str:
    where = {True: "vs", False: "at"}.get(pick.get("is_home"), "vs")
    return f"{pick['team']} {where} {pick['opponent'] or '?'}, {_tipoff(pick.get('tipoff'))}"


def _price(value) -> str:
    return "n/a" if value is None else f"{value:+.0f}"


def tier_record(name: str, record: dict) -> str:
    """'value: 7-4 over 14 days, 95% 39-86%, +2.10 u' (or 'no graded picks')."""
    recent = record["recent"]
    if not recent["wins"] + recent["losses"]:
        return f"{name}: no graded picks over {record['days']} days"
    return (
        f"{name}: {recent['wins']}-{recent['losses']} over {record['days']} days, 95% "
        f"{100 * recent['hit_rate_low']:.0f}-{100 * recent['hit_rate_high']:.0f}%, {recent['units']:+.2f} u"
        f" (season {record['season']['wins']}-{record['season']['losses']})"
    )


def pick_lines(pick: dict) -> list[str]:
    """The lines of one pick: what to bet, what the market says, the probability and price, where it came from."""
    bet, market, calibration = pick["bet"], pick["market"], pick.get("calibration") or {}
    side = pick["direction"]
    if calibration.get("earned"):
        weighed = (
            f"the market's with the family's edge weighed {calibration['b']:+.3f} (fit on {calibration['n']} rows)"
        )
    else:
        weighed = "the market's alone: the family's edge has not earned a weight out of sample"
    books, chance = market["books"], f"P({side.lower()} {bet['line']:g}) {_pct(market['p_win'])}"
    if books:
        plural = "s" if books > 1 else ""
        market_text = f"{books} other book{plural}, consensus line {market['line']:g}, no-vig {chance}"
    else:
        market_text = f"the bet's own book only, no-vig {chance}"
    nominal = f" (pick'em: judged at {bet['judged_price']:+.1f})" if bet["price_is_nominal"] else ""
    ev = "n/a" if pick["expected_value"] is None else f"{pick['expected_value']:+.3f}"
    return [
        f"#{pick['rank']} {pick['tier'].upper():5} {pick['player']} ({_game(pick)})",
        f"   {side} {bet['line']:g} at {bet['book']} {_price(bet['price'])}{nominal}",
        f"   market: {market_text}",
        f"   P(win) {_pct(pick['p_win'])}, {weighed}; break-even {_pct(bet['break_even'])}; EV {ev} u per unit",
        f"   source: {pick['source_model_family']} ({pick['source_model']}, state {pick['source_model_state']}); "
        f"prediction {pick['prediction']:g} against the selected line {pick['line']:g} ({pick['book']})",
        f"   signals: {', '.join(s for s in pick['signals'] if s != 'model_health') or 'none'}",
    ]


def card_text(doc: dict) -> str:
    """The card of an export document as text (what `bestbets picks` prints)."""
    lines = doc.get("lines") or {}
    by_tier = doc.get("picks_by_tier", {})
    decided = lines.get("decision_time") or "none: the last snapshot before each tip-off"
    models = ", ".join(f"{f} {m}" for f, m in sorted(doc.get("serving_models", {}).items())) or "none"
    out = [
        f"Card for {doc['date']}: {by_tier.get('value', 0)} value, {by_tier.get('lean', 0)} lean "
        f"(value: EV at or above {doc['min_expected_value']:+.3f} u at the price; lean: the best the day offers, "
        "below its price)",
        f"read: lines as of {lines.get('lines_as_of') or 'n/a'} (decision time {decided}), signal health as of "
        f"{doc.get('signal_health_as_of') or 'none'}, models {models}",
        "",
    ]
    if not doc["picks"]:
        out.append("No pick today: no candidate passed the filters and the signal count.")
    for pick in doc["picks"]:
        out.extend([*pick_lines(pick), ""])
    records = doc.get("record_by_tier", {})
    out.append("record before today: " + "; ".join(tier_record(n, r) for n, r in records.items()))
    return "\n".join(out)


def card_markdown(doc: dict) -> str:
    """The card for a partition's metadata in the UI (Markdown)."""
    return "```\n" + card_text(doc) + "\n```"


CARD_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".value{background:#e8f5e9}.lean{background:#fafafa}"
)


def card_html(doc: dict) -> str:
    """The card as a standalone HTML page (signal-best-bets/{date}.html)."""
    esc = html.escape
    header = (
        "<tr><th>#</th><th>tier</th><th>player, game</th><th>bet</th><th>market (other books)</th>"
        "<th>P(win)</th><th>break-even</th><th>EV</th><th>source</th><th>signals</th></tr>"
    )
    rows = []
    for p in doc["picks"]:
        bet, market = p["bet"], p["market"]
        ev = "n/a" if p["expected_value"] is None else f"{p['expected_value']:+.3f}"
        line = "n/a" if market["line"] is None else f"{market['line']:g}"
        rows.append(
            f"<tr class={esc(p['tier'])}><td>{p['rank']}</td><td>{esc(p['tier'])}</td>"
            f"<td>{esc(p['player'])}<br>{esc(_game(p))}</td>"
            f"<td>{esc(p['direction'])} {bet['line']:g} at {esc(bet['book'])} {esc(_price(bet['price']))}</td>"
            f"<td>{market['books']} books, line {line}, "
            f"no-vig {esc(_pct(market['p_win']))}</td>"
            f"<td>{esc(_pct(p['p_win']))}</td><td>{esc(_pct(bet['break_even']))}</td>"
            f"<td>{ev}</td>"
            f"<td>{esc(p['source_model_family'])}<br>{esc(p['source_model'])} ({esc(p['source_model_state'])})</td>"
            f"<td>{esc(', '.join(s for s in p['signals'] if s != 'model_health'))}</td></tr>"
        )
    text = card_text(doc).split("\n")
    records = doc.get("record_by_tier", {})
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Card {esc(doc['date'])}</title>"
        f"<style>{CARD_CSS}</style></head><body><h1>Card for {esc(doc['date'])}</h1>"
        f"<p>{esc(text[0].split(': ', 1)[1])}</p><p>{esc(text[1])}</p>"
        + (f"<table>{header}{''.join(rows)}</table>" if rows else "<p>No pick today.</p>")
        + "<h2>Record before the day</h2><ul>"
        + "".join(f"<li>{esc(tier_record(n, r))}</li>" for n, r in records.items())
        + "</ul></body></html>"
    )
