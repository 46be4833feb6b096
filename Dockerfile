# ltxbot: serves Discord and Slack (`ltxbot run`). Data (SQLite, sheets, videos) lives in /data.
#
#   DOCKER_BUILDKIT=1 docker build -t ltxbot .
#
# Build arguments (none needed on an ordinary machine):
#   BASE_IMAGE     a Python 3.11+ Debian image with python3 -m venv (default: the official slim)
#   PIP_INDEX_URL  a PyPI mirror, used while building only
# A build secret `pip_ca` (a PEM bundle: --secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt)
# makes pip trust a proxy's or mirror's CA while building; it is mounted for the pip steps
# only and is in no layer of the image.
ARG BASE_IMAGE=python:3.11-slim

# --- deps: the third-party packages, in a venv. Only pyproject.toml is copied in, so this
# layer is rebuilt when the dependencies change, never for the code or the README.
FROM ${BASE_IMAGE} AS deps
ARG PIP_INDEX_URL=
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml ./
# The lists read from pyproject.toml, so there is no second list to keep in step; environment
# markers such as uvloop's pass through as they are.
RUN python3 -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); \
open("requirements.txt", "w").write("\n".join(p["project"]["dependencies"])); \
open("build-requirements.txt", "w").write("\n".join(p["build-system"]["requires"]))'
# Test suites inside the packages (numpy's, matplotlib's: about 25 MB) and setuptools are
# never used at run time; pip stays, to install the project's wheel in the last stage.
RUN --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
    && if [ -n "$PIP_INDEX_URL" ]; then export PIP_INDEX_URL; else unset PIP_INDEX_URL; fi \
    && python3 -m venv /opt/ltxbot \
    && /opt/ltxbot/bin/pip install --upgrade pip \
    && /opt/ltxbot/bin/pip install -r requirements.txt \
    && /opt/ltxbot/bin/pip uninstall --yes setuptools \
    && find /opt/ltxbot/lib -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} + \
    && python3 -m venv /opt/build \
    && /opt/build/bin/pip install -r build-requirements.txt

# --- wheel: the project itself, built from a clean copy of its sources. No build/ or
# egg-info comes in (.dockerignore), and what the build leaves stays in this stage.
FROM deps AS wheel
COPY README.md ./
COPY bot ./bot
COPY commands ./commands
COPY adapters ./adapters
COPY storage ./storage
# The build backend is already installed: no index is needed here.
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

# --- the image that ships: the base, the venv, the wheel installed; no compiler, no sources,
# no pip configuration, no secret.
FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/ltxbot/bin:$PATH \
    LTXBOT_DATA_DIR=/data
RUN useradd --create-home --uid 10001 --user-group ltxbot \
    && mkdir -p /data && chown ltxbot:ltxbot /data
COPY --from=deps /opt/ltxbot /opt/ltxbot
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    /opt/ltxbot/bin/pip install --no-cache-dir --no-deps --no-index /wheels/*.whl \
    && ltxbot --help >/dev/null
USER ltxbot
WORKDIR /data
VOLUME ["/data"]
# 8080: the bot's HTTP port (LTXBOT_WEBHOOK_PORT): /healthz, /readyz, /metrics, always served by
# `ltxbot run`, and fal's webhooks when LTXBOT_PUBLIC_BASE_URL is set.
# 3000: Slack's HTTP mode (LTXBOT_SLACK_PORT). Socket Mode and Discord need no inbound port.
EXPOSE 8080 3000
# Alive = /healthz answers (no curl in the image: Python's urllib). The port follows the
# setting; a terminal command run in the image serves no port and is reported unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('LTXBOT_WEBHOOK_PORT', '8080'), timeout=4)"]
CMD ["ltxbot", "run"]
