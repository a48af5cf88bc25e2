"""Segments on reports: their routes, use cases and SQL."""
