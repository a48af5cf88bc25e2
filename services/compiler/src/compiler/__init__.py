"""Rule compiler: a pure library (validate, compile) and, under `service`, the
process that submits build jobs to BigQuery."""
