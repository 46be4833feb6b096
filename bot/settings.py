"""One Settings object, read from the environment and `.env` by pydantic-settings.

Every external base URL is a setting so that tests point the real clients at local fakes.
Secrets are `SecretStr`: they print as '**********' in logs, errors and reprs.
"""

from __future__ import annotations

import os
import secrets
import socket
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import platformdirs
from dotenv import dotenv_values
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigurationError
from bot.ports import Period

APP_NAME = "ltxbot"
DATA_DIR_ENV = "LTXBOT_DATA_DIR"
# A cap written as one of these (or left empty) is no cap at all.
UNCAPPED = {"", "none", "off", "uncapped", "unlimited"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def default_data_dir() -> Path:
    """The per-user data directory (~/.local/share/ltxbot on Linux, ~/Library/Application
    Support/ltxbot on macOS, %LOCALAPPDATA%\\ltxbot on Windows): the same wherever the
    command is run, unlike a `data/` of the current directory."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def data_dir_origin() -> tuple[Path, str]:
    """Where the data lives and why, as `--help` says it: the environment first, then `.env`
    in the working directory, as `Settings` reads them (without validating every setting)."""
    chosen = os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen), f"set by {DATA_DIR_ENV}"
    from_file = dotenv_values(".env").get(DATA_DIR_ENV) if Path(".env").is_file() else None
    if from_file:
        return Path(from_file), f"set by {DATA_DIR_ENV} in .env"
    return default_data_dir(), f"the per-user data directory; set {DATA_DIR_ENV} to move it"


class Backend(StrEnum):
    AUTO = "auto"  # real fal when FAL_KEY is set, else the simulated one
    FAL = "fal"
    SIMULATED = "simulated"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LTXBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- core ---
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""  # default: sqlite file in data_dir; postgresql://... for replicas
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT  # json: one JSON object per line, for log shippers
    # --- several replicas (job leases) ---
    # Who owns the jobs this process drives; empty: hostname:pid and a random suffix (unique
    # per process, and per core in a process that opens two, as tests do).
    replica_id: str = ""
    # How long a replica's claim on a job lasts unless renewed (every third of it): a replica
    # that dies leaves its jobs to another after at most this long.
    job_lease_seconds: float = Field(default=30, ge=2, le=600)

    # --- money ---
    price_per_megapixel: Decimal = Decimal("0.0024075")
    default_user_cap_usd: Decimal | None = Decimal("10")
    default_cap_period: Period = "day"
    timezone: str = "UTC"
    max_cost_per_request_usd: Decimal | None = Decimal("5")

    # --- fal ---
    backend: Backend = Backend.AUTO
    fal_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("FAL_KEY", "LTXBOT_FAL_KEY")
    )
    fal_model: str = "fal-ai/ltx-2.3-quality/ingredient"
    fal_queue_url: str = "https://queue.fal.run"
    fal_rest_url: str = "https://rest.fal.ai"
    fal_cdn_url: str = "https://v3.fal.media"
    fal_jwks_url: str = "https://rest.fal.ai/.well-known/jwks.json"
    public_base_url: str | None = None  # set to receive fal webhooks instead of polling
    # The bot's HTTP port (`ltxbot run`): /healthz, /readyz, /metrics, and fal's webhooks
    # when public_base_url is set. 0 picks a free port (tests).
    webhook_port: int = Field(default=8080, ge=0, le=65_535)
    max_video_bytes: int = 512 * 1024 * 1024
    # fal gives up on a request no machine started within this many seconds (sent as fal's
    # X-Fal-Request-Timeout); the job then fails, uncharged. 60 s to 24 h; default 15 min.
    fal_start_timeout_s: int = Field(default=900, ge=60, le=86_400)
    max_sheet_bytes: int = 20 * 1024 * 1024
    # Days a job's sheet and video stay on disk after it ended (its record and the ledger
    # stay); the hourly sweep of `ltxbot run` removes them, `ltxbot admin purge` at once.
    retention_days: int = Field(default=30, ge=1, le=3650)
    # fal's platform API (billing records, for `admin reconcile`): an ADMIN-scoped key, kept
    # apart from FAL_KEY, and fal's documented server URL including /v1.
    fal_admin_key: SecretStr | None = None
    fal_api_url: str = "https://api.fal.ai/v1"

    # --- discord ---
    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_guild_ids: str = ""  # comma-separated: sync commands there (fast) instead of globally
    discord_admin_role: str | None = None
    # Several replicas split Discord's gateway by shard (one session per shard): both set, or
    # neither (discord.py then asks Discord how many shards and runs them all). Count first:
    # the ids' check reads it.
    discord_shard_count: int | None = Field(default=None, ge=1, le=65_535)
    discord_shard_ids: str = Field(default="", validate_default=True)  # comma-separated
    # off: no gateway session at all (commands arrive at the replicas that have shards); this
    # replica still posts the results of the jobs it drives through REST with the bot token.
    discord_gateway: bool = True

    # --- slack ---
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # xapp-...: Socket Mode
    slack_signing_secret: SecretStr | None = None  # HTTP mode
    slack_client_id: str | None = None  # OAuth, many workspaces
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_port: int = 3000

    @field_validator("default_user_cap_usd", "max_cost_per_request_usd", mode="before")
    @classmethod
    def _uncapped(cls, value: object) -> object:
        """Empty or `none` (as the README says) is uncapped, not a parse error."""
        if isinstance(value, str) and value.strip().lower() in UNCAPPED:
            return None
        return value

    @field_validator("discord_shard_ids")
    @classmethod
    def _shards_within_count(cls, value: str, info: ValidationInfo) -> str:
        """Ids as `0,1`, each below LTXBOT_DISCORD_SHARD_COUNT; the two set together."""
        if "discord_shard_count" not in info.data:
            return value  # the count was bad: its own line says so
        count = info.data["discord_shard_count"]
        ids = _shard_ids(value)
        if count is None:
            if ids:
                raise ValueError("set LTXBOT_DISCORD_SHARD_COUNT too (how many shards in all)")
            return value
        if not ids:
            raise ValueError(f"set the shards of this replica too (ids from 0 to {count - 1})")
        outside = [i for i in ids if not 0 <= i < count]
        if outside:
            raise ValueError(
                f"shard {outside[0]} is outside 0-{count - 1} (LTXBOT_DISCORD_SHARD_COUNT={count})"
            )
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return str(value).strip().lower()

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'ltxbot.sqlite3'}"

    def new_owner_id(self) -> str:
        """The owner name of one core's job leases: LTXBOT_REPLICA_ID, else a fresh one (so
        call it once per core)."""
        return self.replica_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"

    @property
    def discord_shards(self) -> tuple[list[int], int] | None:
        """This replica's shard ids and the count in all, or None: every shard (one replica)."""
        if self.discord_shard_count is None:
            return None
        return _shard_ids(self.discord_shard_ids), self.discord_shard_count

    @property
    def use_simulated_fal(self) -> bool:
        if self.backend is Backend.AUTO:
            return self.fal_key is None or not self.fal_key.get_secret_value()
        return self.backend is Backend.SIMULATED


def _shard_ids(value: str) -> list[int]:
    """`0, 2,3` -> [0, 2, 3]; a word that is not a whole number says so."""
    ids = []
    for part in value.split(","):
        if part.strip():
            try:
                ids.append(int(part))
            except ValueError:
                raise ValueError(f"{part.strip()!r} is not a shard number") from None
    return sorted(set(ids))


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad one becomes one line naming it, never a traceback or a secret."""
    try:
        # The overrides are checked by pydantic at run time, which is what turns a bad one
        # into the sentence below; the plugin's typed __init__ cannot see `object`.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False, include_input=False):
            name = "LTXBOT_" + "_".join(str(part) for part in error["loc"]).upper()
            message = str(error["msg"]).removeprefix("Value error, ")  # our validators' own
            lines.append(f"setting {name}: {message}")
        raise ConfigurationError("; ".join(lines)) from None
