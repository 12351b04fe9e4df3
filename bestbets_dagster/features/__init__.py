"""Feature sets and their vectorized, point-in-time computation."""
