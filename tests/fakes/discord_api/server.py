"""A local fake of Discord's REST API (v10) and its CDN for tests, on 127.0.0.1 port 0.

It answers the calls discord.py makes: login (`/users/@me`, `/oauth2/applications/@me`; and
`/applications/@me`, whose `flags` say which privileged intents are on, for `ltxbot doctor`),
command sync, interaction callbacks and the interaction webhook, messages (JSON or multipart
with `payload_json` and `files[n]`), edits, threads from messages and guild look-ups. Errors
are Discord's real bodies: 50013 Missing Permissions (403), 40005 Request entity too large
(413), 10003 Unknown Channel, 10008 Unknown Message, 10062 Unknown interaction, 40060 already
acknowledged, 160004 thread already created, 50027 Invalid Webhook Token (401), 50001 Missing
Access (a channel the bot cannot view), 50007 Cannot send messages to this user (closed DMs).
Direct messages: `POST /users/@me/channels` opens the bot's DM channel with a user.
A message sent with `nonce` and `enforce_nonce` (discord.py sends both on every send) while the
same author's message with that nonce is younger than `nonce_window` seconds returns that
message and makes none, as Discord does; `GET /channels/{id}/messages` (`after`, `before`,
`limit`) lists a channel's messages newest first, without their nonces.

The same server is the gateway: `GET /gateway/bot` names `ws://127.0.0.1:<port>`, where
`gateway` (tests/fakes/discord_api/gateway.py) says HELLO, takes IDENTIFY, sends READY and
GUILD_CREATE, and carries the dispatch events a test pushes (INTERACTION_CREATE). A thread the
bot starts over REST is announced there with THREAD_CREATE, as Discord does.

It imports nothing from the project; every request is recorded in `calls`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.gateway import FakeGateway

PREFIX = "/api/v10"
ALL_BOT_PERMISSIONS = (
    o.VIEW_CHANNEL | o.SEND_MESSAGES | o.EMBED_LINKS | o.ATTACH_FILES | o.READ_MESSAGE_HISTORY
    | o.CREATE_PUBLIC_THREADS | o.SEND_MESSAGES_IN_THREADS | o.USE_APPLICATION_COMMANDS
)  # fmt: skip
UPLOAD_LIMITS = {0: 10 * 1024 * 1024, 1: 10 * 1024 * 1024, 2: 50 * 1024 * 1024, 3: 100 * 1024**2}


@dataclass
class Upload:
    field: str  # "files[0]"
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One request the fake answered."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any  # the JSON body, or a multipart request's payload_json
    files: list[Upload]
    authorization: str | None
    status: int = 0
    at: float = field(default_factory=time.monotonic)


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str):
        self.status, self.code, self.message = status, code, message


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


class FakeDiscord:
    """Run with `async with FakeDiscord() as discord:`; point discord.py at `discord.api_url`."""

    def __init__(self, *, token: str = "fake-bot-token") -> None:
        self.token = token
        self.application_id = o.snowflake()
        self.bot = o.user(self.application_id, "LTX", bot=True)
        self.application_flags = 0  # e.g. 1 << 18: the Message Content intent turned on
        self.guilds: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.bot_permissions: dict[str, int] = {}  # channel -> the bot's permissions there
        self.messages: dict[str, dict[str, Any]] = {}
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.interactions: dict[str, dict[str, Any]] = {}  # token -> payload
        self.responded: set[str] = set()
        self.expired: set[str] = set()  # interaction tokens past their 15 minutes
        self.closed_dms: set[str] = set()  # users who take no direct messages from the bot
        self.dms: dict[str, str] = {}  # user -> the bot's DM channel with them
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild (None: global)
        self.failures: list[tuple[str, str, DiscordError]] = []  # (method, path prefix, error)
        self.calls: list[Call] = []
        self.nonce_window = 300.0  # seconds Discord keeps an enforced nonce ("a few minutes")
        self.nonces: dict[tuple[str, str], tuple[str, float]] = {}  # (author, nonce) -> message
        # While set, a message with files is stored but its answer waits for `unstall` (a bot
        # killed after Discord took its upload, before it heard back).
        self.stall_uploads = False
        self._unstalled = asyncio.Event()
        self.changed = asyncio.Condition()
        self.gateway = FakeGateway(self, self._notify)
        self.recommended_shards = 1  # what `/gateway/bot` recommends (Discord: per 1000 guilds)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- set-up ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.base_url + PREFIX

    def add_guild(self, guild_id: str, *, premium_tier: int = 0) -> dict[str, Any]:
        self.guilds[guild_id] = o.guild(guild_id, premium_tier=premium_tier)
        return self.guilds[guild_id]

    def add_channel(
        self, channel_id: str, guild_id: str, *, permissions: int = ALL_BOT_PERMISSIONS
    ) -> dict[str, Any]:
        if guild_id not in self.guilds:
            self.add_guild(guild_id)
        self.channels[channel_id] = o.text_channel(channel_id, guild_id)
        self.bot_permissions[channel_id] = permissions
        return self.channels[channel_id]

    def deny(self, channel_id: str, *bits: int) -> None:
        for bit in bits:
            self.bot_permissions[channel_id] &= ~bit

    def host(self, filename: str, data: bytes, content_type: str) -> str:
        """Put a file on the fake CDN; returns its URL."""
        key = f"{o.snowflake()}/{filename}"
        self.cdn[key] = (data, content_type)
        return f"{self.base_url}/attachments/{key}"

    def fail_next(self, method: str, path_prefix: str, status: int, code: int, msg: str) -> None:
        """The next `method` on a path starting with `path_prefix` answers this error body."""
        self.failures.append((method, path_prefix, DiscordError(status, code, msg)))

    def register(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Remember an interaction the test is about to deliver, so its token is valid."""
        self.interactions[payload["token"]] = payload
        return payload

    def interaction(
        self,
        kind: int,
        channel_id: str,
        member: dict[str, Any],
        data: dict[str, Any],
        *,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A registered interaction in `channel_id` carrying what Discord would: the bot's
        permissions there and the guild's upload limit."""
        channel = self._channel(channel_id)
        guild = self.guilds[channel["guild_id"]]
        payload = ix.base(
            kind, application_id=self.application_id, guild_id=guild["id"], channel=channel,
            member=member, app_permissions=self._permissions(channel),
            attachment_size_limit=UPLOAD_LIMITS[guild["premium_tier"]],
        )  # fmt: skip
        payload["data"] = data
        if message is not None:
            payload["message"] = message
        return self.register(payload)

    # --- assertions -----------------------------------------------------------------------

    def unstall(self) -> None:
        """Let the stalled answers go (to whoever still listens)."""
        self.stall_uploads = False
        self._unstalled.set()

    def calls_to(self, method: str, path_part: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and path_part in c.path]

    def messages_to(self, channel_id: str) -> list[Call]:
        """Message creations in one channel (or thread), in order."""
        return [c for c in self.calls
                if c.method == "POST" and c.path == f"/channels/{channel_id}/messages"]  # fmt: skip

    def callbacks(self, payload: dict[str, Any]) -> list[Call]:
        return self.calls_to("POST", f"/interactions/{payload['id']}/")

    def webhook_calls(self, payload: dict[str, Any]) -> list[Call]:
        return [c for c in self.calls if f"/webhooks/{self.application_id}/{payload['token']}"
                in c.path]  # fmt: skip

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:
        """Wait until `predicate()` is truthy (checked whenever a request is answered or a
        gateway message arrives)."""
        async with self.changed:
            return await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # --- server ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(client_max_size=1024**3)
        app.router.add_get("/attachments/{key:.+}", self._cdn)
        app.router.add_route("*", PREFIX + "/{path:.*}", self._api)
        app.router.add_get("/", self.gateway.handle)
        app.on_shutdown.append(self.gateway.shutdown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        # Real Discord takes hundreds of connections at once; the default backlog (128)
        # would drop SYNs in a burst and add the kernel's 1 s retransmit to some requests.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        self.gateway.url = f"ws://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _cdn(self, request: web.Request) -> web.Response:
        found = self.cdn.get(request.match_info["key"])
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body, files = await _read_body(request)
        call = Call(request.method, path, dict(request.query), body, files,
                    request.headers.get("Authorization"))  # fmt: skip
        self.calls.append(call)
        try:
            for index, (method, prefix, error) in enumerate(self.failures):
                if method == request.method and path.startswith(prefix):
                    del self.failures[index]
                    raise error
            status, answer = self._route(request.method, path, call)
            if self.stall_uploads and call.files and request.method == "POST":
                await self._notify()
                await self._unstalled.wait()
        except DiscordError as error:
            status, answer = error.status, {"code": error.code, "message": error.message}
        call.status = status
        await self._notify()
        if answer is None:
            return web.Response(status=204)
        # Exactly "application/json", as Discord sends it (discord.py compares the header).
        return web.Response(body=json.dumps(answer).encode(), status=status,
                            headers={"Content-Type": "application/json"})  # fmt: skip

    def _route(self, method: str, path: str, call: Call) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[0] == "interactions":
            return self._interaction_callback(parts[1], parts[2], call)
        if parts[0] == "webhooks":
            return self._webhook(method, parts[2], parts[3:], call)
        if method == "GET" and parts == ["gateway"]:  # the one call that needs no token
            return 200, {"url": self.gateway.url}
        if call.authorization != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")
        match method, parts:
            case "GET", ["users", "@me"]:
                return 200, self.bot
            case "GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]:
                return 200, self._application()
            case "GET", ["gateway", "bot"]:
                return 200, {"url": self.gateway.url, "shards": self.recommended_shards,
                             "session_start_limit":
                             {"total": 1000, "remaining": 999, "reset_after": 14_400_000,
                              "max_concurrency": 1}}  # fmt: skip
            case "PUT", ["applications", _, "commands"]:
                return 200, self._sync(None, call.body)
            case "PUT", ["applications", _, "guilds", guild_id, "commands"]:
                return 200, self._sync(guild_id, call.body)
            case "GET", ["guilds", guild_id]:
                if guild_id not in self.guilds:
                    raise DiscordError(404, 10004, "Unknown Guild")
                return 200, self.guilds[guild_id]
            case "POST", ["users", "@me", "channels"]:
                return 200, self._open_dm(str(call.body.get("recipient_id")))
            case "POST", ["channels", channel_id, "messages"]:
                return 200, self._create_message(channel_id, call)
            case "PATCH", ["channels", channel_id, "messages", message_id]:
                return 200, self._edit_message(channel_id, message_id, call.body)
            case "GET", ["channels", channel_id, "messages"]:
                return 200, self._history(channel_id, call.query)
            case "GET", ["channels", channel_id, "messages", message_id]:
                return 200, self._message_in(channel_id, message_id)
            case "POST", ["channels", channel_id, "messages", message_id, "threads"]:
                return 201, self._start_thread(channel_id, message_id, call.body)
        raise DiscordError(404, 0, "404: Not Found")

    # --- handlers -------------------------------------------------------------------------

    def _application(self) -> dict[str, Any]:
        return {
            "id": self.application_id, "name": "LTX", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": o.user("1", "owner"),
            "verify_key": "0" * 64, "flags": self.application_flags, "summary": "", "team": None,
            "interactions_endpoint_url": None, "bot": self.bot,
        }  # fmt: skip

    def _sync(self, guild_id: str | None, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        synced = []
        for command in body:
            entry = {"id": o.snowflake(), "application_id": self.application_id,
                     "version": o.snowflake(), "default_member_permissions": None,
                     "type": 1, "description": "", "options": [], **command}  # fmt: skip
            if guild_id is not None:
                entry["guild_id"] = guild_id
            synced.append(entry)
        self.commands[guild_id] = synced
        return synced

    def _interaction_callback(self, interaction_id: str, token: str, call: Call) -> tuple[int, Any]:
        payload = self.interactions.get(token)
        if payload is None or payload["id"] != interaction_id or token in self.expired:
            raise DiscordError(404, 10062, "Unknown interaction")
        if token in self.responded:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        self.responded.add(token)
        kind = call.body["type"]
        flags = (call.body.get("data") or {}).get("flags", 0)
        if "with_response" not in call.query:
            return 204, None
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 7):
            resource["message"] = self._interaction_message(payload, call.body.get("data") or {})
        return 200, {
            "interaction": {"id": interaction_id, "type": payload["type"],
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool(flags & o.EPHEMERAL)},
            "resource": resource,
        }  # fmt: skip

    def _interaction_message(self, payload: dict[str, Any], data: dict[str, Any]) -> dict:
        return o.message(o.snowflake(), payload["channel"]["id"], self.bot,
                         content=data.get("content") or "", embeds=data.get("embeds"),
                         components=data.get("components"), flags=data.get("flags", 0),
                         guild_id=payload.get("guild_id"))  # fmt: skip

    def _webhook(self, method: str, token: str, rest: list[str], call: Call) -> tuple[int, Any]:
        payload = self.interactions.get(token)
        if token in self.expired:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if payload is None or token not in self.responded:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if method == "DELETE":
            return 204, None
        return 200, self._interaction_message(payload, call.body or {})

    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _permissions(self, channel: dict[str, Any]) -> int:
        return self.bot_permissions[channel.get("parent_id") or channel["id"]]

    def dms_to(self, user_id: str) -> list[Call]:
        """Message creations in the bot's DM channel with `user_id`."""
        channel_id = self.dms.get(user_id)
        return [] if channel_id is None else self.messages_to(channel_id)

    def _open_dm(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.dms:
            self.dms[user_id] = o.snowflake()
            self.channels[self.dms[user_id]] = o.dm_channel(self.dms[user_id], o.user(user_id, "u"))
        return self.channels[self.dms[user_id]]

    def _create_message(self, channel_id: str, call: Call) -> dict[str, Any]:
        channel = self._channel(channel_id)
        if channel["type"] == o.DM:
            return self._direct_message(channel, call)
        allowed = self._permissions(channel)
        if not allowed & o.VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        send = o.SEND_MESSAGES_IN_THREADS if channel["type"] == o.PUBLIC_THREAD else o.SEND_MESSAGES
        needed = o.VIEW_CHANNEL | send | (o.ATTACH_FILES if call.files else 0)
        if allowed & needed != needed:
            raise missing_permissions()
        guild = self.guilds[channel["guild_id"]]
        if sum(len(f.data) for f in call.files) > UPLOAD_LIMITS[guild["premium_tier"]]:
            raise DiscordError(413, 40005, "Request entity too large")
        return self._stored_message(channel_id, channel.get("guild_id"), call)

    def _direct_message(self, channel: dict[str, Any], call: Call) -> dict[str, Any]:
        if channel["recipients"][0]["id"] in self.closed_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        if sum(len(f.data) for f in call.files) > UPLOAD_LIMITS[0]:
            raise DiscordError(413, 40005, "Request entity too large")
        return self._stored_message(channel["id"], None, call)

    def stored_in(self, channel_id: str) -> list[dict[str, Any]]:
        """The messages a channel (or thread) holds, oldest first (a deduplicated send makes
        none, unlike `messages_to`, which counts requests)."""
        held = [m for m in self.messages.values() if m["channel_id"] == channel_id]
        return sorted(held, key=lambda m: int(m["id"]))

    def _history(self, channel_id: str, query: dict[str, str]) -> list[dict[str, Any]]:
        self._channel(channel_id)
        held = self.stored_in(channel_id)
        if "after" in query:
            held = [m for m in held if int(m["id"]) > int(query["after"])]
        if "before" in query:
            held = [m for m in held if int(m["id"]) < int(query["before"])]
        limit = int(query.get("limit", 50))
        # Discord answers newest first; with `after`, the oldest `limit` of those after it.
        page = held[:limit] if "after" in query else held[-limit:]
        return [{k: v for k, v in m.items() if k != "nonce"} for m in reversed(page)]

    def _stored_message(self, channel_id: str, guild_id: str | None, call: Call) -> dict:
        body = call.body or {}
        nonce = str(body["nonce"]) if body.get("nonce") is not None else None
        key = (self.bot["id"], nonce or "")
        if nonce and body.get("enforce_nonce") and key in self.nonces:
            message_id, at = self.nonces[key]
            if time.monotonic() - at < self.nonce_window and message_id in self.messages:
                return {**self.messages[message_id], "nonce": nonce}
        attachments = [
            o.attachment(
                o.snowflake(),
                f.filename,
                len(f.data),
                self.host(f.filename, f.data, f.content_type or "application/octet-stream"),
                f.content_type,
            )
            for f in call.files
        ]
        message = o.message(o.snowflake(), channel_id, self.bot, content=body.get("content") or "",
                            embeds=body.get("embeds"), components=body.get("components"),
                            attachments=attachments, guild_id=guild_id)  # fmt: skip
        self.messages[message["id"]] = message
        if nonce:
            self.nonces[key] = (message["id"], time.monotonic())
        return {**message, "nonce": nonce} if nonce else message

    def _message_in(self, channel_id: str, message_id: str) -> dict[str, Any]:
        self._channel(channel_id)
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _edit_message(self, channel_id: str, message_id: str, body: dict[str, Any]) -> dict:
        message = self._message_in(channel_id, message_id)
        channel = self.channels[channel_id]
        if channel["type"] != o.DM and not self._permissions(channel) & o.VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if message["author"]["id"] != self.bot["id"]:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = o.now_iso()
        return message

    def _start_thread(self, channel_id: str, message_id: str, body: dict[str, Any]) -> dict:
        channel = self._channel(channel_id)
        self._message_in(channel_id, message_id)
        if not self._permissions(channel) & o.CREATE_PUBLIC_THREADS:
            raise missing_permissions()
        if message_id in self.channels:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        # A thread started from a message shares the message's id.
        thread = o.thread(message_id, channel["guild_id"], channel_id, self.bot["id"],
                          body["name"])  # fmt: skip
        self.channels[message_id] = thread
        self.gateway.dispatch_soon("THREAD_CREATE", {**thread, "newly_created": True})
        return thread


async def _read_body(request: web.Request) -> tuple[Any, list[Upload]]:
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[Upload] = []
        reader = await request.multipart()
        async for part in reader:
            data = await part.read()  # type: ignore[union-attr]
            if part.name == "payload_json":
                body = json.loads(data)
            else:
                content_type = part.headers.get("Content-Type")
                files.append(Upload(part.name or "", part.filename or "", content_type, data))
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


__all__ = ["ALL_BOT_PERMISSIONS", "Call", "FakeDiscord", "Upload", "ix", "o"]
