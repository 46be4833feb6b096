"""fal's webhook callbacks: verify fal's Ed25519 signature, then hand the body to a sink.

fal signs every delivery (docs: "Verifying Your Webhook"): the headers X-Fal-Webhook-Request-Id,
-User-Id, -Timestamp (unix seconds) and -Signature (hex) carry an Ed25519 signature over
`request_id \\n user_id \\n timestamp \\n sha256_hex(raw body)`, made with one of the keys that
fal publishes as a JWKS (`settings.fal_jwks_url`). A delivery is accepted only when that
signature verifies and the timestamp is within 300 s of our clock.

Answers: 200 verified and handed over; 401 unsigned, badly signed or stale (the sink is never
called); 400 signed but not a JSON object, or naming another request; 503 when the JWKS cannot
be fetched and 500 when the sink fails, so that fal delivers again later (it retries 10 times
over 2 hours, which is also why the sink must be idempotent on request_id).

The key set is cached for a day, as fal's docs suggest, and fetched again (at most once a
minute, so forged deliveries cannot make us hammer fal) when a signature fails against it:
that is how a key rotation is picked up.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.errors import JwksUnavailable, WebhookRefused
from bot.model import Payload
from bot.settings import Settings

log = logging.getLogger(__name__)

PATH = "/fal/webhook"
TIMESTAMP_LEEWAY_SECONDS = 300  # fal's docs: refuse deliveries more than 5 minutes off
JWKS_CACHE_SECONDS = 24 * 60 * 60
JWKS_REFETCH_COOLDOWN_SECONDS = 60.0
MAX_BODY_BYTES = 16 * 1024 * 1024  # a result JSON; sync_mode would inline the video itself

REQUEST_ID = "X-Fal-Webhook-Request-Id"
USER_ID = "X-Fal-Webhook-User-Id"
TIMESTAMP = "X-Fal-Webhook-Timestamp"
SIGNATURE = "X-Fal-Webhook-Signature"


class WebhookSink(Protocol):
    """Who gets verified deliveries (`bot.jobs.supervisor.Supervisor`). Called once per
    delivery; fal may deliver the same request twice, and waits at most 15 s for the answer.

    `job_hint` is the `job` query parameter the bot put in its webhook URL. It is not covered
    by fal's signature (the request id and body are), so it may only help find a job, never
    decide anything about one."""

    async def on_webhook(
        self, request_id: str, body: Payload, job_hint: str | None = None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    request_id: str
    user_id: str
    timestamp: str
    signature: bytes


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """The exact bytes fal signs for one delivery."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([request_id, user_id, timestamp, digest]).encode("utf-8")


def read_signed_headers(headers: Mapping[str, str], now: float) -> SignedHeaders:
    """The four signature headers, checked for presence, shape and freshness."""
    lowered = {key.lower(): value for key, value in headers.items()}
    values = [lowered.get(name.lower(), "").strip() for name in (REQUEST_ID, USER_ID, TIMESTAMP)]
    signature_hex = lowered.get(SIGNATURE.lower(), "").strip()
    if not all(values) or not signature_hex:
        raise WebhookRefused("the fal signature headers are missing")
    request_id, user_id, timestamp = values
    try:
        sent_at = int(timestamp)
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise WebhookRefused("the fal signature headers are malformed") from None
    if abs(now - sent_at) > TIMESTAMP_LEEWAY_SECONDS:
        raise WebhookRefused(f"the timestamp is {int(now - sent_at)} s off (more than 300 s)")
    return SignedHeaders(request_id, user_id, timestamp, signature)


def public_keys(jwks: Payload) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS (`kty` OKP, `crv` Ed25519, base64url `x`); others skipped."""
    keys = []
    for entry in jwks.get("keys") or ():
        if not isinstance(entry, dict) or entry.get("kty") != "OKP":
            continue
        x = entry.get("x")
        if entry.get("crv") != "Ed25519" or not isinstance(x, str):
            continue
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            keys.append(Ed25519PublicKey.from_public_bytes(raw))
        except (ValueError, binascii.Error):
            log.warning("fal JWKS: skipping a malformed Ed25519 key")
    return keys


def signature_matches(signed: SignedHeaders, body: bytes, keys: Iterable[Ed25519PublicKey]) -> bool:
    message = signed_message(signed.request_id, signed.user_id, signed.timestamp, body)
    for key in keys:
        try:
            key.verify(signed.signature, message)
            return True
        except InvalidSignature:
            continue
    return False


def verify_webhook(
    headers: Mapping[str, str], body: bytes, jwks: Payload, now: float | None = None
) -> bool:
    """One-shot check against a JWKS already in hand: signed by one of its keys, and fresh."""
    try:
        signed = read_signed_headers(headers, time.time() if now is None else now)
    except WebhookRefused:
        return False
    return signature_matches(signed, body, public_keys(jwks))


class JwksCache:
    """fal's webhook keys, fetched with aiohttp and kept for a day.

    `ssl` is the client context for the fetch (None: the system's default trust); tests pass
    the simulated fal's CA. `clock` is monotonic seconds.
    """

    def __init__(
        self,
        url: str,
        *,
        ssl: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = JWKS_CACHE_SECONDS,
        cooldown: float = JWKS_REFETCH_COOLDOWN_SECONDS,
    ) -> None:
        self.url = url
        self.fetches = 0
        self._ssl = ssl
        self._clock = clock
        self._ttl = ttl
        self._cooldown = cooldown
        self._keys: list[Ed25519PublicKey] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def keys(self, *, refresh: bool = False) -> list[Ed25519PublicKey]:
        """The cached keys; fetched when absent or older than a day, or when `refresh` is
        asked and the last fetch is older than the cooldown."""
        async with self._lock:
            age = self._clock() - self._fetched_at
            stale = self._keys is None or age > self._ttl or (refresh and age > self._cooldown)
            if stale:
                try:
                    self._keys = await self._fetch()
                    self._fetched_at = self._clock()
                except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                    if self._keys is None:
                        raise JwksUnavailable(f"{type(error).__name__}: {error}") from error
                    log.warning("fal JWKS refetch failed (%s); keeping the cached keys", error)
            assert self._keys is not None
            return self._keys

    async def _fetch(self) -> list[Ed25519PublicKey]:
        self.fetches += 1
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.get(self.url, ssl=self._ssl or True) as response:
            response.raise_for_status()
            document = await response.json(content_type=None)
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        return public_keys(document)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


JWKS_KEY = web.AppKey("fal_jwks", JwksCache)


def webhook_app(
    settings: Settings,
    sink: WebhookSink,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.time,
    jwks: JwksCache | None = None,
) -> web.Application:
    """An aiohttp app serving POST /fal/webhook. `clock` is wall-clock unix seconds (the
    timestamp check); `ssl_context` is used to fetch the JWKS at `settings.fal_jwks_url`."""
    cache = jwks or JwksCache(settings.fal_jwks_url, ssl=ssl_context)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[JWKS_KEY] = cache

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            signed = read_signed_headers(request.headers, clock())
            if not await _verified(cache, signed, body):
                raise WebhookRefused("the signature does not verify against fal's keys")
        except WebhookRefused as refused:
            log.warning("refused a fal webhook: %s", refused)
            return web.json_response({"error": "invalid signature"}, status=401)
        except JwksUnavailable as error:
            log.error("fal webhook not verified: fal's keys could not be fetched (%s)", error)
            return web.json_response({"error": "keys unavailable"}, status=503)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return web.json_response({"error": "body is not a JSON object"}, status=400)
        if payload.get("request_id") not in (None, signed.request_id):
            return web.json_response({"error": "request_id does not match"}, status=400)
        try:
            await sink.on_webhook(signed.request_id, payload, job_hint=request.query.get("job"))
        except Exception:
            log.exception("fal webhook for %s: the handler failed", signed.request_id)
            return web.json_response({"error": "not processed"}, status=500)
        return web.json_response({"ok": True})

    async def close_cache(_: web.Application) -> None:
        await cache.close()

    app.router.add_post(PATH, receive)
    app.on_cleanup.append(close_cache)
    return app


async def _verified(cache: JwksCache, signed: SignedHeaders, body: bytes) -> bool:
    if signature_matches(signed, body, await cache.keys()):
        return True
    # Perhaps fal rotated its keys since we cached them: look once more.
    return signature_matches(signed, body, await cache.keys(refresh=True))
