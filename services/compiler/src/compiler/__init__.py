"""Rule compiler: a pure library and, under `service`, the process that submits build
jobs to BigQuery.

The library's face: `typed.type_rule_set` types a rule set (every error at once, or
the typed tree), `statements.membership` compiles a rule set or a typed tree into the
one membership query, and the functions of `statements` derive each statement the
platform sends from it. `sql` holds what every statement shares. Membership SQL only:
reads of a built member table belong to their readers."""
