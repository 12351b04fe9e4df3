"""Model families, CatBoost training, gates and the model registry (plain Python, no Dagster)."""
