"""Where `ltxbot` logs go and how they look: text lines, or one JSON object per line.

LTXBOT_LOG_FORMAT=json is for log shippers (Loki, Elastic, CloudWatch): python-json-logger
writes each record as one object with `time` (ISO 8601, UTC), `level`, `logger`, `message`,
the traceback as `exc_info`, and whatever the record carries as extras (a job transition's
`job_id`, `state`, `from_state`, `quoted_usd`, `charged_usd`). The library handles what a
hand-written formatter gets wrong: extras of any type, exceptions and stack traces,
non-ASCII text.
"""

from __future__ import annotations

import logging

from bot.settings import LogFormat

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_NAMES = {"levelname": "level", "name": "logger"}


def start_logging(level: str) -> None:
    """Before the settings are read: text on stderr, at the command line's level."""
    logging.basicConfig(level=level, format=TEXT)


def formatter(form: LogFormat) -> logging.Formatter:
    if form is LogFormat.JSON:
        from pythonjsonlogger.json import JsonFormatter

        # `time`: ISO 8601 in UTC, which every shipper parses without a pattern.
        return JsonFormatter(
            JSON_FIELDS, rename_fields=JSON_NAMES, timestamp="time", json_ensure_ascii=False
        )
    return logging.Formatter(TEXT)


def use_format(form: LogFormat) -> None:
    """Once the settings are read: every root handler writes in LTXBOT_LOG_FORMAT."""
    chosen = formatter(form)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(chosen)
