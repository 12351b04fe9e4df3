"""`bestbets picks [--date D] [--json]`: the day's card as exported (signal-best-bets/{date}.json), as a
person reads it (bestbets.card)."""

from __future__ import annotations

import datetime as dt
import json

from bestbets_dagster.bestbets.card import newest_card_date

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
