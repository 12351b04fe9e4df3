"""Acquisition: the clients that fill the data directory (plain Python, no Dagster).

- `odds_api`: The Odds API v4 (events, player_points and game markets, live or historical), its usage
  headers, and the snapshot files the ingest reads (`odds_api_v4/odds_YYYYMMDD_HHMMSS.json.gz`).
- `nba_stats`: NBA.com's stats endpoints (scoreboard, traditional box score v3, parsed by nba_api) and
  the day files of `box_scores/` and `team_game_logs/`.
- `http`: the GET with retries both use, with the API key kept out of every message and log.
"""
