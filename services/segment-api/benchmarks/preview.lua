-- wrk: the same preview over and over, as a builder re-sends it; after the first it is
-- the cached answer. Start the stack with RATE_LIMIT_PER_MINUTE raised, or most are 429s.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"rules": {"object": "customer", "root": {"type": "group", "rules": [
  {"type": "property", "field": "age", "operator": "between", "value": [25, 45]},
  {"type": "group", "combinator": "or", "rules": [
    {"type": "property", "field": "city", "operator": "equals", "value": "Jakarta"},
    {"type": "property", "field": "tags", "operator": "contains_any", "value": ["vip", "b2b"]}]}]}}}]]
