"""The acquisition layer's alert rows (`source_alerts`): written as a downloader or the freshness sensor
finds a problem, one row per date, type and source; an alert found again keeps its first created_at, so
`alerts_to_slack` sends it once."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bestbets_dagster.resources import Warehouse


def record_source_alert(
    warehouse: Warehouse, day: dt.date, alert_type: str, subject: str, severity: str, message: str
) -> bool:
    """Add (or update the message of) one alert; True when it is new (a new created_at: sent)."""
    stored = warehouse.read("source_alerts", day, day)
    same = (stored["alert_type"] == alert_type) & (stored["subject"] == subject)
    # Found again at the same severity: the first created_at stays (not sent twice); escalated: sent again.
    again = same & (stored["severity"] == severity)
    if (again & (stored["message"] == message)).any():
        return False  # already stored as it is: a tick of the freshness sensor rewrites nothing
    created = stored.loc[again, "created_at"].iloc[0] if again.any() else pd.Timestamp.now(tz="UTC")
    row = pd.DataFrame(
        [
            {
                "game_date": pd.Timestamp(day),
                "alert_type": alert_type,
                "subject": subject,
                "severity": severity,
                "message": message,
                "created_at": created,
            }
        ]
    )
    warehouse.replace_partitions("source_alerts", pd.concat([stored[~same], row], ignore_index=True), day, day)
    return not again.any()
