"""Experiments: a candidate family or rule replayed walk-forward against the champion, with the bettor's rules."""
