"""Monitoring: signal health, model performance and their alerts, read by the picks and the operator."""
