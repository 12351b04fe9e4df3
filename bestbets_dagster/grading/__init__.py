"""Grading and the model performance state machine (plain Python, no Dagster)."""
