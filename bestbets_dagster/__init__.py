"""bestbets_dagster: daily NBA player-points best bets as a Dagster project."""
