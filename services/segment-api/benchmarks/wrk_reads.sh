#!/usr/bin/env bash
# wrk against the running gateway's two hottest reads, the list and one segment, beside
# /health (the floor: no database, no auth) at 100 connections, and a repeated (cached)
# preview at 4 and 100, each for a bounded time, on 127.0.0.1 only. Prints wrk's latency
# distribution.
#   RATE_LIMIT_PER_MINUTE=100000000 ./deploy/segctl up   (one worker per core), then:
#   bash services/segment-api/benchmarks/wrk_reads.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECONDS_EACH=${1:-15}
[ "$SECONDS_EACH" -le 60 ] || { echo "at most 60 s" >&2; exit 2; }
API=http://127.0.0.1:8400
TOKEN=$(./deploy/segctl token)
AUTH="Authorization: Bearer $TOKEN"
ID=$(curl -sf "$API/v1/segments?per_page=1" -H "$AUTH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
for path in "/health" "/v1/segments" "/v1/segments/$ID"; do
  echo "== GET $path (100 connections, ${SECONDS_EACH}s)"
  wrk -t2 -c100 -d"${SECONDS_EACH}s" --latency -H "$AUTH" "$API$path" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx|timeout"
done
for conns in 4 100; do
  echo "== POST /v1/segments/preview, the same rules ($conns connections, ${SECONDS_EACH}s)"
  wrk -t2 -c"$conns" -d"${SECONDS_EACH}s" --latency -H "$AUTH" \
    -s services/segment-api/benchmarks/preview.lua "$API/v1/segments/preview" \
    | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx|timeout"
done
