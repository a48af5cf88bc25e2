"""Build history, refresh runs and membership changes: their routes, use cases and SQL."""
