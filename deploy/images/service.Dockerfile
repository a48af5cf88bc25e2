# One image for the five services; the compose file picks the module to run.

# The gateway serves the web console's build at /console: built here with Node, so the
# runtime image needs no npm and fetches nothing at run time.
FROM node:20-slim AS console
WORKDIR /console
COPY services/segment-api/console/package.json services/segment-api/console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY services/segment-api/console/ ./
RUN npm run build

FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
WORKDIR /app
COPY . .
RUN uv sync --frozen --all-packages --no-dev
COPY --from=console /console/dist /app/services/segment-api/console/dist
ENV PATH="/app/.venv/bin:$PATH"
USER nobody
