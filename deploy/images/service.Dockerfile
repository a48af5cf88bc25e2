# One image for the five services; the compose file picks the module to run.
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
WORKDIR /app
COPY . .
RUN uv sync --frozen --all-packages --no-dev
ENV PATH="/app/.venv/bin:$PATH"
USER nobody
