"""Ingestion: box scores, Odds API player-points lines, and player identity."""
