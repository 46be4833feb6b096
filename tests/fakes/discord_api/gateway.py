"""A local fake of Discord's gateway (v10, JSON, optionally zlib-stream) for tests.

It speaks the protocol the way discord.py's `DiscordWebSocket` meets it: op 10 HELLO with a
`heartbeat_interval`, op 2 IDENTIFY checked (bot token, shard [id, count], intents: privileged
ones are refused with close 4014 unless enabled), READY (op 0) with the shard's guilds as
unavailable, then one GUILD_CREATE per guild, op 1 heartbeats answered with op 11, op 6 RESUME
replaying what the session missed (or op 9 for an unknown session), and dispatch events a test
pushes with `dispatch()` (INTERACTION_CREATE arrives this way, as on Discord). Events that need
an intent reach only sessions that asked for it, and a guild's events only the session of its
shard ((guild_id >> 22) % count), as Discord routes them. Close codes are Discord's (4001
unknown opcode, 4002 decode error, 4003 not authenticated, 4004 authentication failed, 4005
already authenticated, 4010 invalid shard, 4012 invalid API version, 4013 invalid intents,
4014 disallowed intents).

`compress=zlib-stream` in the URL query (what discord.py asks for without zstandard) gets one
zlib context per connection, each message flushed with Z_SYNC_FLUSH, as Discord does.

It imports nothing from the project; see `FakeDiscord.gateway`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_api import objects as o

API_VERSION = "10"
# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    6, 7, 8, 9, 10, 11,
)  # fmt: skip
# Intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1
# The intent each event the fake can send needs; READY, RESUMED and interactions need none.
EVENT_INTENTS = {"GUILD_CREATE": GUILDS, "THREAD_CREATE": GUILDS, "CHANNEL_CREATE": GUILDS,
                 "MESSAGE_CREATE": GUILD_MESSAGES}  # fmt: skip
THREAD_TYPES = (o.PUBLIC_THREAD, 10, 12)

_sessions = itertools.count(1)


@dataclass
class Session:
    """One websocket connection, from HELLO to its close."""

    socket: web.WebSocketResponse
    query: dict[str, str]
    compressor: Any = None  # a zlib compress object when the URL asked for zlib-stream
    session_id: str = field(default_factory=lambda: f"fake-session-{next(_sessions)}")
    identify: dict[str, Any] | None = None
    resumed: bool = False
    ready: bool = False  # READY and GUILD_CREATE (or RESUMED) sent: later events follow them
    sequence: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # dispatches, for RESUME
    heartbeats: list[int | None] = field(default_factory=list)  # the `d` of each op 1
    received: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None  # who closed first chose it: the fake or the app
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def intents(self) -> int:
        return int((self.identify or {}).get("intents", 0))

    @property
    def shard(self) -> tuple[int, int]:
        shard_id, count = (self.identify or {}).get("shard", [0, 1])
        return int(shard_id), int(count)

    def serves(self, guild_id: object) -> bool:
        """Discord's routing: a guild's events go to shard (guild_id >> 22) % count; events
        with no guild (DMs) to shard 0."""
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return (int(str(guild_id)) >> 22) % count == shard_id

    @property
    def live(self) -> bool:
        return self.ready and not self.socket.closed

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, separators=(",", ":"))
        # One zlib stream per connection: frames must leave in the order they were compressed.
        async with self.sending:
            if self.compressor is None:
                await self.socket.send_str(data)
                return
            chunk = self.compressor.compress(data.encode())
            await self.socket.send_bytes(chunk + self.compressor.flush(zlib.Z_SYNC_FLUSH))


class FakeGateway:
    """The gateway half of `FakeDiscord`; `world` is the FakeDiscord holding guilds and users."""

    def __init__(self, world: Any, notify: Callable[[], Awaitable[None]]) -> None:
        self.world = world
        self._notify = notify
        self.heartbeat_interval_ms = 41_250  # Discord's usual value; tests never wait for it
        self.privileged_intents = 0  # the privileged intents "enabled in the developer portal"
        self.sessions: list[Session] = []
        self.identifies: list[dict[str, Any]] = []  # every accepted IDENTIFY's `d`, in order
        self.url = ""  # ws://127.0.0.1:<port>, set when the server starts
        self._pending: set[asyncio.Task[Any]] = set()

    # --- what tests use -------------------------------------------------------------------

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.live]

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send op 0 `event` to every identified session whose intents allow it; how many."""
        needed = EVENT_INTENTS.get(event, 0)
        guild_id = data.get("guild_id") if event != "GUILD_CREATE" else data.get("id")
        targets = [
            s for s in self.live_sessions() if s.intents & needed == needed and s.serves(guild_id)
        ]
        if not targets and not needed:
            raise RuntimeError(f"no gateway session is connected to receive {event}")
        for session in targets:
            await self._dispatch(session, event, data)
        return len(targets)

    def dispatch_soon(self, event: str, data: dict[str, Any]) -> None:
        """`dispatch` from synchronous REST handlers (Discord sends these after answering)."""
        if not self.live_sessions():
            return
        task = asyncio.get_running_loop().create_task(self.dispatch(event, data))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def reconnect(self) -> None:
        """Op 7: ask every session to reconnect and resume, as Discord does at times."""
        for session in self.live_sessions():
            await session.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    # --- server ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        session = Session(socket, dict(request.query))
        self.sessions.append(session)
        try:
            refusal = self._check_query(request.query)
            if refusal is not None:
                await self._close(session, *refusal)
                return socket
            if request.query.get("compress") == "zlib-stream":
                session.compressor = zlib.compressobj()
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-gateway"]}
            await session.send({"op": HELLO, "d": hello, "s": None, "t": None})
            async for message in socket:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    payload = json.loads(message.data)
                except ValueError:
                    await self._close(session, 4002, "Error while decoding payload.")
                    break
                await self._receive(session, payload)
                await self._notify()
        finally:
            if session.close_code is None:  # the app closed it (else the fake's code stands)
                session.close_code = socket.close_code
            await self._notify()
        return socket

    async def shutdown(self, app: web.Application) -> None:
        for task in list(self._pending):
            task.cancel()
        for session in self.sessions:
            if not session.socket.closed:
                await session.socket.close(code=1001, message=b"going away")

    @staticmethod
    def _check_query(query: Any) -> tuple[int, str] | None:
        if query.get("v") != API_VERSION:
            return 4012, "Invalid API version."
        if query.get("encoding", "json") != "json":
            return 4002, "Only encoding=json is spoken by this fake."
        if query.get("compress") not in (None, "zlib-stream"):
            return 4002, "Only compress=zlib-stream is spoken by this fake."
        return None

    async def _close(self, session: Session, code: int, reason: str) -> None:
        await session.socket.close(code=code, message=reason.encode())
        session.close_code = code

    async def _receive(self, session: Session, payload: dict[str, Any]) -> None:
        session.received.append(payload)
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            session.heartbeats.append(data)
            await session.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(session, data or {})
        elif op == RESUME:
            await self._resume(session, data or {})
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE, REQUEST_GUILD_MEMBERS):
            if session.identify is None:
                await self._close(session, 4003, "Not authenticated.")
        else:
            await self._close(session, 4001, "Unknown opcode.")

    async def _identify(self, session: Session, data: dict[str, Any]) -> None:
        if session.identify is not None:
            await self._close(session, 4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            await self._close(session, 4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~ALL_INTENTS:
            await self._close(session, 4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await self._close(session, 4014, "Disallowed intent(s).")
            return
        shard = data.get("shard", [0, 1])
        if not _valid_shard(shard):
            await self._close(session, 4010, "Invalid shard.")
            return
        session.identify = data
        guilds = [g for g in self.world.guilds if session.serves(g)]
        self.identifies.append(data)
        ready = {
            "v": int(API_VERSION), "user": self.world.bot, "session_id": session.session_id,
            "guilds": [{"id": g, "unavailable": True} for g in guilds],
            "resume_gateway_url": self.url, "shard": shard,
            "application": {"id": self.world.application_id, "flags": 0},
            "private_channels": [], "relationships": [], "presences": [],
            "user_settings": {}, "guild_join_requests": [], "geo_ordered_rtc_regions": [],
            "_trace": ["fake-gateway"],
        }  # fmt: skip
        await self._dispatch(session, "READY", ready)
        if intents & GUILDS:
            for guild_id in guilds:
                await self._dispatch(session, "GUILD_CREATE", self.guild_create(guild_id))
        session.ready = True

    async def _resume(self, session: Session, data: dict[str, Any]) -> None:
        if session.identify is not None:
            await self._close(session, 4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            await self._close(session, 4004, "Authentication failed.")
            return
        old = next((s for s in reversed(self.sessions) if s is not session
                    and s.session_id == data.get("session_id")), None)  # fmt: skip
        if old is None:
            await session.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        # The new connection takes the session over: its id, intents, numbering and history.
        session.session_id, session.identify = old.session_id, old.identify
        session.sequence, session.history = old.sequence, old.history
        session.resumed = True
        seen = data.get("seq") or 0
        for missed in [p for p in session.history if p["s"] > seen]:
            await session.send(missed)
        await self._dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})
        session.ready = True

    async def _dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.sequence += 1
        payload = {"op": DISPATCH, "s": session.sequence, "t": event, "d": data}
        session.history.append(payload)
        await session.send(payload)

    def guild_create(self, guild_id: str) -> dict[str, Any]:
        """A GUILD_CREATE body: the guild with its channels, active threads and the bot."""
        guild = self.world.guilds[guild_id]
        channels = [c for c in self.world.channels.values() if c.get("guild_id") == guild_id]
        me = o.member(self.world.bot["id"], self.world.bot["username"])
        me.pop("permissions")  # only interactions carry a member's computed permissions
        return {
            **guild, "unavailable": False, "large": False, "member_count": 2,
            "joined_at": guild.get("joined_at") or o.now_iso(),
            "channels": [c for c in channels if c["type"] not in THREAD_TYPES],
            "threads": [c for c in channels if c["type"] in THREAD_TYPES],
            "members": [me], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }  # fmt: skip


def _valid_shard(shard: object) -> bool:
    """[id, count] with 0 <= id < count, as Discord checks it (else close 4010)."""
    if not isinstance(shard, list) or len(shard) != 2:
        return False
    shard_id, count = shard
    return isinstance(shard_id, int) and isinstance(count, int) and 0 <= shard_id < count
