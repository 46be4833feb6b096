# ltxbot: serves Discord and Slack (`ltxbot run`). Data (SQLite, videos) lives in /data.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LTXBOT_DATA_DIR=/data

RUN useradd --create-home --uid 10001 ltxbot && mkdir -p /data && chown ltxbot /data
WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p bot commands adapters storage \
    && touch bot/__init__.py commands/__init__.py adapters/__init__.py storage/__init__.py \
    && pip install . \
    && pip uninstall --yes ltxbot \
    && rm -rf bot commands adapters storage

COPY bot ./bot
COPY commands ./commands
COPY adapters ./adapters
COPY storage ./storage
RUN pip install --no-deps .

USER ltxbot
VOLUME ["/data"]
# fal webhooks (when LTXBOT_PUBLIC_BASE_URL is set) and Slack's HTTP mode.
EXPOSE 8080 3000
CMD ["ltxbot", "run"]
