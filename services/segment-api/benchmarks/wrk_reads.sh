#!/usr/bin/env bash
# wrk against the running gateway's two hottest reads, the list and one segment, at 100
# connections for a bounded time, on 127.0.0.1 only. Prints wrk's latency distribution.
#   ./deploy/segctl up   (or API_WORKERS=2 ./deploy/segctl up), then:
#   bash services/segment-api/benchmarks/wrk_reads.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECONDS_EACH=${1:-15}
[ "$SECONDS_EACH" -le 60 ] || { echo "at most 60 s" >&2; exit 2; }
API=http://127.0.0.1:8400
TOKEN=$(./deploy/segctl token)
AUTH="Authorization: Bearer $TOKEN"
ID=$(curl -sf "$API/v1/segments?per_page=1" -H "$AUTH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
for path in "/v1/segments" "/v1/segments/$ID"; do
  echo "== GET $path (100 connections, ${SECONDS_EACH}s)"
  wrk -t2 -c100 -d"${SECONDS_EACH}s" --latency -H "$AUTH" "$API$path" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx|timeout"
done
