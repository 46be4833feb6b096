"""The Slack adapter: a bolt `AsyncApp` in Socket Mode or HTTP mode, and its Poster.

Socket Mode (LTXBOT_SLACK_APP_TOKEN set) needs no public URL: one workspace.
HTTP mode serves `/slack/events` on LTXBOT_SLACK_PORT with bolt verifying each request's
signature (LTXBOT_SLACK_SIGNING_SECRET; requests older than 5 minutes are refused), and with
LTXBOT_SLACK_CLIENT_ID/SECRET also `/slack/install` and `/slack/oauth_redirect` for many
workspaces. Every Web API client points at LTXBOT_SLACK_API_URL and retries 429s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.acks import AckReport, time_acks
from adapters.slack.entries import register_entries
from adapters.slack.form_run import inbox_for, take_over_forms
from adapters.slack.handlers import register
from adapters.slack.installations import KeyValueInstallationStore, KeyValueOAuthStateStore
from adapters.slack.keyvalue import KeyValueStore, MemoryKeyValueStore
from adapters.slack.people import People
from adapters.slack.poster import SlackPoster, TokenSource
from adapters.slack.reach import Reach
from adapters.slack.runtime import STEP_WAIT_SECONDS, Runtime
from adapters.slack.tasks import BackgroundTasks
from adapters.slack.tokens import InstalledTokens, SingleToken
from bot.errors import ConfigurationError
from bot.model import Platform
from bot.ports import JobLeases
from bot.settings import Settings
from commands import Commands

if TYPE_CHECKING:  # imported where used: only socket mode needs it
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

log = logging.getLogger(__name__)
CLOSE_GRACE_SECONDS = 4.0  # for work started before a stop (replies after acks)
EVENTS_PATH = "/slack/events"
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",  # *:history: a video link read back on resume (posted_once)
    "channels:join",
    "channels:read",  # conversations.info, to refuse before a hold where it cannot post
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "mpim:history",
    "mpim:read",
    "users:read",
    "usergroups:read",
)


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """A Web API client on the configured base URL that also waits out rate limits (429)."""
    handlers = [AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(2)]
    return AsyncWebClient(
        base_url=settings.slack_api_url,
        token=token,
        retry_handlers=handlers,
        logger=web_api_logger(),
    )


def web_api_logger() -> logging.Logger:
    """slack_sdk's logger, with a level of its own.

    slack_sdk formats a debug line of every request and answer (a whole form included) when
    its logger's *own* level is NOTSET or DEBUG, whatever the effective level: at 200 forms at
    once that was a third of the work after the acks. Debug lines still come with DEBUG on."""
    wanted = logging.getLogger("slack_sdk").isEnabledFor(logging.DEBUG)  # root's, or its own
    logger = logging.getLogger("slack_sdk.web.ltxbot")
    logger.setLevel(logging.DEBUG if wanted else logging.INFO)
    return logger


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


class SlackAdapter:
    """Serves Slack for the core: `.poster` for the runner, `start()` / `close()` for serve."""

    platform = Platform.SLACK

    def __init__(
        self,
        settings: Settings,
        commands: Commands,
        *,
        store: KeyValueStore | None = None,
        leases: JobLeases | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        host: str = "0.0.0.0",
        step_wait: float = STEP_WAIT_SECONDS,
    ) -> None:
        self.settings, self.host = settings, host
        # `serve` passes the database's store, so installations and "already handled" claims
        # survive a restart and hold across replicas. Memory (one process, lost on restart) is
        # only the default for tests and scripts that pass none.
        self.store: KeyValueStore = store if store is not None else MemoryKeyValueStore()
        self.tasks = BackgroundTasks()
        self.app_token = _secret(settings.slack_app_token)
        token = _secret(settings.slack_bot_token)
        signing_secret = _secret(settings.slack_signing_secret)
        if self.app_token is None and signing_secret is None:
            raise ConfigurationError(
                "Slack needs LTXBOT_SLACK_APP_TOKEN (Socket Mode) or "
                "LTXBOT_SLACK_SIGNING_SECRET (HTTP mode)"
            )
        self.client = web_client(settings, token)
        oauth = (
            self.app_token is None
            and settings.slack_client_id is not None
            and _secret(settings.slack_client_secret) is not None
        )
        if oauth:
            installations = KeyValueInstallationStore(self.store)
            # bolt's default authorize calls auth.test on every request, before its ack: cache
            # it per token (the installation itself is still looked up, so uninstalls count).
            authorize = AsyncInstallationStoreAuthorize(
                logger=log,
                installation_store=installations,
                cache_enabled=True,
                client_id=settings.slack_client_id,
                client_secret=_secret(settings.slack_client_secret),
                client=self.client,
            )
            self.app = AsyncApp(
                signing_secret=signing_secret,
                client=self.client,
                # bolt types `authorize` narrower than its own AsyncAuthorize, which it accepts.
                authorize=authorize,  # type: ignore[arg-type]
                installation_store=installations,
                oauth_flow=AsyncOAuthFlow(
                    client=web_client(settings),
                    settings=AsyncOAuthSettings(
                        client_id=settings.slack_client_id,
                        client_secret=_secret(settings.slack_client_secret),
                        scopes=list(BOT_SCOPES),
                        installation_store=installations,
                        state_store=KeyValueOAuthStateStore(self.store),
                    ),
                ),
            )
            tokens: TokenSource = InstalledTokens(installations)
        elif token is not None:
            # The client carries the token (bolt takes it from there).
            self.app = AsyncApp(
                client=self.client,
                signing_secret=signing_secret or "",
                request_verification_enabled=self.app_token is None,
            )
            tokens = SingleToken(token)
        else:
            raise ConfigurationError("Slack needs LTXBOT_SLACK_BOT_TOKEN (or the OAuth settings)")
        self.poster = SlackPoster(
            web_client(settings), tokens, tasks=self.tasks, clock=clock, sleep=sleep
        )
        self.runtime = Runtime(
            settings,
            commands,
            self.poster,
            People(clock),
            self.tasks,
            self.store,
            step_wait,
            Reach(clock),
        )
        self.runtime.inbox = inbox_for(settings, commands, self.store, leases)
        self._forms: asyncio.Task[None] | None = None  # takes over forms others acked
        self.on_ack: AckReport | None = None  # set by serve: seconds from arrival to ack
        time_acks(self.app, lambda: self.on_ack)
        register(self.app, self.runtime)
        register_entries(self.app, self.runtime)
        self._socket: AsyncSocketModeHandler | None = None
        self._http: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port: int | None = None

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    async def start(self) -> None:
        """Connect (Socket Mode) or listen on LTXBOT_SLACK_PORT (HTTP mode); returns at once."""
        self._share_one_session()
        await self._check_the_token()
        self._forms = take_over_forms(self.runtime, lambda token: web_client(self.settings, token))
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.app_token, web_client=self.client)
            try:
                # Asked here, not inside connect (which retries a refused token forever).
                self._socket.client.wss_uri = await self._socket.client.issue_new_wss_url()
            except SlackApiError as error:
                await self._socket.client.close()
                self._socket = None
                raise ConfigurationError(
                    "setting LTXBOT_SLACK_APP_TOKEN: Slack refused it "
                    f"({error.response.get('error')}); it needs the connections:write scope"
                ) from None
            await self._socket.connect_async()
            log.info("Slack: connected in Socket Mode")
            return
        web_app = self.app.web_app(path=EVENTS_PATH, port=self.settings.slack_port)
        self._http = web.AppRunner(web_app)
        await self._http.setup()
        # Slack may open hundreds of connections at once in a burst; past the default backlog
        # (128) the kernel drops SYNs and those acks wait for its 1 s retransmit.
        site = web.TCPSite(self._http, self.host, self.settings.slack_port, backlog=1024)
        await site.start()
        # aiohttp names the bound port only on its private server (port 0 picks a free one).
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("Slack: HTTP mode on port %s%s", self.port, EVENTS_PATH)

    async def connected(self) -> bool:
        """Socket Mode: its WebSocket is open and answers pings; HTTP mode: listening."""
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return self._http is not None

    async def _check_the_token(self) -> None:
        """One auth.test at start for a single bot token, handed to bolt's authorization.

        bolt calls auth.test for each request that arrives before its first answer, before
        the ack: in a burst that is every request. Asking once here also refuses a bad token
        at start instead of at the first command."""
        authorization = next(
            (
                m
                for m in self.app._async_middleware_list  # no public handle
                if isinstance(m, AsyncSingleTeamAuthorization)
            ),
            None,
        )
        if authorization is None or authorization.auth_test_result is not None:
            return
        try:
            authorization.auth_test_result = await self.client.auth_test()
        except SlackApiError as error:
            raise ConfigurationError(
                f"LTXBOT_SLACK_BOT_TOKEN: Slack refused it ({error.response.get('error')})"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            # Slack unreachable for now: bolt asks again with the first request.
            log.warning("Slack: could not check the bot token yet (%s)", type(error).__name__)

    def _share_one_session(self) -> None:
        # slack_sdk opens a new aiohttp session (a new connection; on Slack, a TLS handshake)
        # for every API call unless its client has one: all of the adapter's share this one.
        # bolt's per-request clients copy the app client's session when each request comes.
        if self._session is None:
            self._session = aiohttp.ClientSession()
            for client in (self.client, self.poster.client):
                client.session = self._session

    async def close(self) -> None:
        """Stop taking requests, let started work finish (`CLOSE_GRACE_SECONDS` at most: with
        the jobs' posts after it, a stopping replica exits within 10 s), close connections."""
        if self._forms is not None:
            self._forms.cancel()
            await asyncio.gather(self._forms, return_exceptions=True)
        if self._socket is not None:
            await self._socket.close_async()
        if self._http is not None:
            await self._http.cleanup()
        await self.tasks.close(timeout=CLOSE_GRACE_SECONDS)
        await self.runtime.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
