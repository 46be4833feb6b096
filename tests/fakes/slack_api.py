"""A local fake of Slack's Web API (and its file hosts) for tests, on 127.0.0.1 port 0.

It speaks the real wire protocol the way slack_sdk meets it: methods under `/api/<method>`
taking form, query or JSON parameters with a bearer token, answering `{"ok": true, ...}` or
Slack's real error bodies (`not_in_channel`, `invalid_auth`, `ratelimited` with 429 and
Retry-After). Private files are served like files.slack.com: with the bearer token the bytes,
without it an HTML sign-in page with status 200. The files_upload_v2 flow works end to end
(files.getUploadURLExternal -> POST to the returned URL -> files.completeUploadExternal), and a
shared file appears in its thread only after `share_delay` files.info calls, as it can on Slack.
`response_url` posts land on `/response/<id>`. Socket Mode: apps.connections.open with an
app-level token (`app_tokens`) hands out `ws://.../socket`, which says hello and then carries
the envelopes a test sends with `send_envelope`, recording the app's acks in `acks`.

It imports nothing from the project; every call is recorded in `calls` for assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"
JSON_FIELDS = {"files", "outputs", "blocks", "view", "attachments", "channels", "metadata"}


@dataclass
class Call:
    """One request the fake answered."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float  # time.monotonic() when it arrived


@dataclass
class StoredFile:
    id: str
    name: str
    mimetype: str
    data: bytes
    title: str = ""
    shares: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pending_shares: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    info_calls: int = 0


class FakeSlackAPI:
    """Run with `async with FakeSlackAPI() as slack:`; point slack_sdk at `slack.api_url`."""

    def __init__(self, *, bot_token: str = "xoxb-test-token", team_id: str = "T0TEAM") -> None:
        self.tokens: dict[str, str] = {bot_token: team_id}  # valid token -> its team
        self.team_id = team_id
        self.bot_user_id = "U0BOT"
        self.bot_id = "B0BOT"
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: list[dict[str, Any]] = []
        self.member_of: set[str] | None = None  # None: the bot is in every channel
        self.private: set[str] = set()  # private channels (C...): hidden unless a member
        self.disabled_users: set[str] = set()  # deactivated: no DM can be opened with them
        self.app_dms: set[str] = set()  # the app's DMs (conversations.open): the bot is in them
        # Tokens allowed to download private files (files:read); None: every valid token.
        self.file_readers: set[str] | None = None
        self.share_delay = 0  # files.info calls before a shared file shows its share
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # bodies posted to response_url
        self.files: dict[str, StoredFile] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.app_tokens: set[str] = set()  # xapp-... tokens that may open Socket Mode
        # The scopes granted to the bot token, sent as Slack does in `x-oauth-scopes`.
        self.scopes: list[str] | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.changed = asyncio.Condition()
        # Methods whose answer waits for `unstall` after the call took effect (a bot killed
        # while Slack has done the work but not yet answered).
        self.stalled: set[str] = set()
        # Downloads of private files past this many are stalled like `stalled` methods.
        self.downloads_before_stall: int | None = None
        self._unstalled = asyncio.Event()
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- set-up ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def add_user(self, user_id: str, *, name: str = "", is_admin: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name or user_id.lower(),
            "real_name": name, "is_admin": is_admin, "is_owner": False,
            "is_primary_owner": False, "is_bot": False,
            "profile": {"display_name": name, "real_name": name},
        }  # fmt: skip

    def add_usergroup(self, group_id: str, handle: str, users: list[str]) -> None:
        self.usergroups.append({"id": group_id, "team_id": self.team_id, "handle": handle,
                                "name": handle, "users": list(users)})  # fmt: skip

    def add_file(self, name: str, data: bytes, mimetype: str = "image/png") -> dict[str, Any]:
        """A private file as Slack would describe it in a payload (with url_private)."""
        file_id = f"F{next(self._ids):06d}"
        self.files[file_id] = StoredFile(file_id, name, mimetype, data)
        return self.file_object(file_id)

    def fail_next(
        self, method: str, error: str, *, status: int = 200, retry_after: int | None = None
    ) -> None:
        """The next call of `method` answers Slack's error body (429 + Retry-After for limits)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures.setdefault(method, []).append(
            (status, {"ok": False, "error": error}, headers)
        )

    def unstall(self) -> None:
        """Let the stalled answers go (to whoever still listens)."""
        self.stalled.clear()
        self.downloads_before_stall = None
        self._unstalled.set()

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, predicate: Any, timeout: float = 5) -> None:
        """Wait until `predicate()` holds (checked whenever a request arrives)."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), timeout)

    def file_object(self, file_id: str) -> dict[str, Any]:
        stored = self.files[file_id]
        url = f"{self.base_url}/files-pri/{self.team_id}-{file_id}/{stored.name}"
        return {
            "id": file_id, "name": stored.name, "title": stored.title or stored.name,
            "mimetype": stored.mimetype, "filetype": stored.name.rsplit(".", 1)[-1],
            "size": len(stored.data), "url_private": url,
            "url_private_download": url + "?download=1",
            "permalink": f"https://fake.slack.com/files/{self.bot_user_id}/{file_id}/{stored.name}",
            "shares": self._shares(stored.shares),
            "channels": list(stored.shares),
        }  # fmt: skip

    def _shares(self, shares: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        """Slack files a share under "private" for DMs and private channels."""
        kinds: dict[str, Any] = {}
        for channel, where in shares.items():
            private = channel[:1] in "DG" or channel in self.private
            kinds.setdefault("private" if private else "public", {})[channel] = where
        return kinds

    # --- server ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlackAPI:
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{ref}/{name}", self._download)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.on_shutdown.append(self._close_sockets)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        self.calls.append(Call(method, params, token, time.monotonic()))
        try:
            if self.failures.get(method):
                status, body, headers = self.failures[method].pop(0)
                return web.json_response(body, status=status, headers=headers)
            if method == "oauth.v2.access":
                return web.json_response(self._oauth_access(params))
            if method == "apps.connections.open" and token in self.app_tokens:
                url = self.base_url.replace("http://", "ws://") + "/socket"
                return web.json_response({"ok": True, "url": url})
            if token not in self.tokens:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                return web.json_response({"ok": False, "error": "unknown_method"})
            granted = {"x-oauth-scopes": ",".join(self.scopes)} if self.scopes is not None else {}
            answer = handler(params, token)
            if method in self.stalled:
                await self._notify()
                await self._unstalled.wait()
            return web.json_response(answer, headers=granted)
        finally:
            await self._notify()

    # --- methods (each returns the JSON body) ----------------------------------------------

    def _m_auth_test(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "ltxbot",
                "team_id": self.tokens[token], "user_id": self.bot_user_id,
                "bot_id": self.bot_id, "is_enterprise_install": False}  # fmt: skip

    def _m_users_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = self.users.get(params.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _m_usergroups_list(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        wanted = str(params.get("include_users", "")).lower() in {"1", "true"}
        groups = [g if wanted else {k: v for k, v in g.items() if k != "users"}
                  for g in self.usergroups]  # fmt: skip
        return {"ok": True, "usergroups": groups}

    def _in_channel(self, channel: str | None) -> bool:
        # A user id as the channel posts in the app's DM with that user: always open.
        return (
            self.member_of is None
            or channel in self.member_of
            or str(channel)[:1] == "U"
            or channel in self.app_dms
        )

    def _post(self, params: dict[str, Any], ephemeral: bool = False) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not self._in_channel(channel):
            return {"ok": False, "error": self._outside(channel)}
        ts = f"{1700000000 + next(self._ts)}.000100"
        if ephemeral:
            return {"ok": True, "message_ts": ts}
        message = {"ts": ts, "text": params.get("text"), "blocks": params.get("blocks"),
                   "thread_ts": params.get("thread_ts"), "bot_id": self.bot_id,
                   "user": self.bot_user_id}  # fmt: skip
        if isinstance(params.get("metadata"), dict):  # Slack keeps event_type + event_payload
            kept = params["metadata"]
            message["metadata"] = {"event_type": kept.get("event_type"),
                                   "event_payload": kept.get("event_payload") or {}}  # fmt: skip
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postMessage(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return self._post(params)

    def _m_chat_postEphemeral(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return self._post(params, ephemeral=True)

    def _m_chat_update(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        key = (params.get("channel", ""), params.get("ts", ""))
        if not self._in_channel(key[0]):
            return {"ok": False, "error": self._outside(key[0])}
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key].update(text=params.get("text"), blocks=params.get("blocks"))
        return {"ok": True, "channel": key[0], "ts": key[1], "text": params.get("text")}

    def _outside(self, channel: str) -> str:
        """Slack's error for a conversation the bot is not in: only a public one is seen."""
        public = channel.startswith("C") and channel not in self.private
        return "not_in_channel" if public else "channel_not_found"

    def _m_conversations_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        member = self._in_channel(channel)
        if not member and self._outside(channel) == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        if channel.startswith("D"):
            return {"ok": True, "channel": {"id": channel, "is_im": True}}
        mpim = channel.startswith("G")
        private = mpim or channel in self.private
        facts = {"is_channel": not mpim, "is_mpim": mpim, "is_im": False, "is_private": private}
        return {"ok": True, "channel": {"id": channel, **facts, "is_member": member}}

    def _m_conversations_join(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = params.get("channel", "")
        if not channel.startswith("C") or channel in self.private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if self.member_of is not None:
            self.member_of.add(channel)
        return {"ok": True, "channel": {"id": channel, "is_member": True}}

    def _m_conversations_replies(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        """A thread: its parent and replies, oldest first (messages the bot can see)."""
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if (refused := self._history_refused(channel)) is not None:
            return refused
        held = [m for (c, _), m in self.messages.items()
                if c == channel and ts in (m["ts"], m.get("thread_ts"))]  # fmt: skip
        limit = int(params.get("limit") or 1000)
        shown = [_as_read(m, params) for m in sorted(held, key=lambda m: m["ts"])[:limit]]
        return {"ok": True, "messages": shown, "has_more": False}

    def _history_refused(self, channel: str) -> dict[str, Any] | None:
        """Slack's error when the bot may not read `channel`: outside it, or without the
        `*:history` scope of its kind (checked when `scopes` says what was granted)."""
        if not self._in_channel(channel):
            return {"ok": False, "error": self._outside(channel)}
        kind = ("im" if channel.startswith("D") else "mpim" if channel.startswith("G")
                else "groups" if channel in self.private else "channels")  # fmt: skip
        needed = f"{kind}:history"
        if self.scopes is not None and needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed,
                    "provided": ",".join(self.scopes)}  # fmt: skip
        return None

    def _m_conversations_history(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        """A conversation's top-level messages, newest first."""
        channel = str(params.get("channel") or "")
        if (refused := self._history_refused(channel)) is not None:
            return refused
        held = [m for (c, _), m in self.messages.items() if c == channel and not m["thread_ts"]]
        limit = int(params.get("limit") or 100)
        newest = sorted(held, key=lambda m: m["ts"], reverse=True)
        shown = [_as_read(m, params) for m in newest[:limit]]
        return {"ok": True, "messages": shown, "has_more": False}

    def _m_conversations_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if any(user not in self.users for user in users):
            return {"ok": False, "error": "user_not_found"}
        if any(user in self.disabled_users for user in users):
            return {"ok": False, "error": "user_disabled"}
        # The app's DM with one user; its id is stable, as on Slack.
        channel = "D" + users[0].lstrip("UW")
        self.app_dms.add(channel)
        return {"ok": True, "channel": {"id": channel, "is_im": True}}

    def _m_chat_getPermalink(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("message_ts", "")
        return {"ok": True, "permalink": f"https://fake.slack.com/archives/{channel}/p{ts}"}

    def _m_views_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = params.get("view") or {}
        return {"ok": True, "view": {**view, "id": f"V{next(self._ids):06d}", "hash": "h1"}}

    def _m_views_update(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        view = params.get("view") or {}
        return {"ok": True, "view": {**view, "id": params.get("view_id"), "hash": "h2"}}

    def _m_files_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        stored = self.files.get(params.get("file", ""))
        if stored is None:
            return {"ok": False, "error": "file_not_found"}
        stored.info_calls += 1
        if stored.pending_shares and stored.info_calls > self.share_delay:
            self._show_shares(stored)
        return {"ok": True, "file": self.file_object(stored.id)}

    def _show_shares(self, stored: StoredFile) -> None:
        for channel, shares in stored.pending_shares.items():
            stored.shares.setdefault(channel, []).extend(shares)
        stored.pending_shares = {}

    def shares_in(self, channel: str) -> list[dict[str, Any]]:
        """Every share of any file in a channel (shown or not yet): one per file message."""
        return [share for stored in self.files.values()
                for where in (stored.shares, stored.pending_shares)
                for share in where.get(channel, [])]  # fmt: skip

    def _m_files_getUploadURLExternal(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        self.files[file_id] = StoredFile(file_id, params.get("filename", "file"), "", b"")
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def _m_files_completeUploadExternal(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = params.get("channel_id")
        if channel and not self._in_channel(channel):
            return {"ok": False, "error": self._outside(channel)}
        out = []
        for item in params.get("files") or []:
            stored = self.files.get(item.get("id", ""))
            if stored is None or not stored.data:
                return {"ok": False, "error": "file_not_found"}
            stored.title = item.get("title") or stored.name
            if channel:
                ts = f"{1700000000 + next(self._ts)}.000200"
                share = {"ts": ts, "thread_ts": params.get("thread_ts"),
                         "initial_comment": params.get("initial_comment")}  # fmt: skip
                # Completing again shares again: a second message with the same file.
                stored.pending_shares.setdefault(channel, []).append(share)
                if self.share_delay == 0:
                    self._show_shares(stored)
            out.append({"id": stored.id, "title": stored.title})
        return {"ok": True, "files": out}

    def _m_functions_completeSuccess(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True}

    def _m_functions_completeError(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": True}

    def _m_apps_connections_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {"ok": False, "error": "not_allowed_token_type"}

    def _oauth_access(self, params: dict[str, Any]) -> dict[str, Any]:
        grant = self.oauth_codes.pop(params.get("code", ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        self.tokens[grant["access_token"]] = grant["team"]["id"]
        return {"ok": True, **grant}

    # --- file hosts and response_url ------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="not found")
        stored.data = await request.read()
        self.calls.append(Call("upload", {"file_id": stored.id, "size": len(stored.data)}, None,
                               time.monotonic()))  # fmt: skip
        await self._notify()
        return web.Response(text=f"OK - {len(stored.data)}")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["ref"].split("-", 1)[-1]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        self.calls.append(Call("download", {"file_id": file_id}, token, time.monotonic()))
        await self._notify()
        limit = self.downloads_before_stall
        if limit is not None and len(self.calls_to("download")) > limit:
            await self._unstalled.wait()
        stored = self.files.get(file_id)
        readers = self.tokens if self.file_readers is None else self.file_readers
        if token not in self.tokens or token not in readers or stored is None:
            # What files.slack.com does for a private file without access: a login page, 200.
            return web.Response(body=LOGIN_PAGE, content_type="text/html")
        return web.Response(body=stored.data, content_type=stored.mimetype or "image/png")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        hello = {"type": "hello", "num_connections": len(self.sockets),
                 "connection_info": {"app_id": "A0APP"},
                 "debug_info": {"host": "fake", "approximate_connection_time": 3600}}  # fmt: skip
        await socket.send_json(hello)
        await self._notify()
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.acks[data["envelope_id"]] = data
                    self.calls.append(Call("socket_ack", data, None, time.monotonic()))
                    await self._notify()
        finally:
            self.sockets.remove(socket)
        return socket

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None,
        retry_attempt: int | None = None,
    ) -> str:  # fmt: skip
        """Push one Socket Mode envelope ("slash_commands", "interactive", "events_api")."""
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}  # fmt: skip
        if retry_attempt is not None:
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout")
        await self.sockets[-1].send_json(envelope)
        return envelope_id

    async def _close_sockets(self, app: web.Application) -> None:
        for socket in list(self.sockets):
            await socket.close()

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        self.calls.append(Call("response_url", body, None, time.monotonic()))
        await self._notify()
        return web.Response(text="ok")


def _as_read(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A message as conversations.history/replies show it: its metadata only when asked for
    with `include_all_metadata`."""
    if str(params.get("include_all_metadata", "")).lower() in ("1", "true"):
        return message
    return {k: v for k, v in message.items() if k != "metadata"}


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update(dict(await request.post()))
    for name in JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(params[name])
    return params
