"""Job monitor: follows every submitted BigQuery job until it ends."""
