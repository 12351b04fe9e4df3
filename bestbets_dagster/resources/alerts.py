"""Where alerts go: Slack through dagster-slack when a bot token is configured, the log otherwise."""

from typing import Optional

import pandas as pd
from dagster import ConfigurableResource
from dagster_slack import SlackResource


class AlertNotifier(ConfigurableResource):
    slack_token: Optional[str] = None
    channel: str = "#bestbets-alerts"

    def channel_name(self) -> str:
        return f"Slack {self.channel}" if self.slack_token else "the sensor log"

    @staticmethod
    def format(alert) -> str:
        return f"[{alert.severity}] {alert.game_date:%Y-%m-%d} {alert.alert_type} {alert.subject}: {alert.message}"

    def send(self, alerts: pd.DataFrame, log) -> int:
        lines = [self.format(a) for a in alerts.itertuples(index=False)]
        if not self.slack_token:
            for line in lines:
                (log.warning if line.startswith("[ERROR]") else log.info)(line)
            return len(lines)
        client = SlackResource(token=self.slack_token).get_client()
        for start in range(0, len(lines), 20):  # one message per 20 alerts
            client.chat_postMessage(channel=self.channel, text="\n".join(lines[start : start + 20]))
        return len(lines)
