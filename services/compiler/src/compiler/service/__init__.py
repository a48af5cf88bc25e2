"""The compiler service: turns segment changes and build requests into BigQuery jobs."""
