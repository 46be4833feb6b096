"""fal-style webhook delivery: Ed25519 signatures over
`request_id \\n user_id \\n timestamp \\n sha256_hex(body)` (hex in X-Fal-Webhook-Signature), with
the public keys published as a JWKS (`{rest}/.well-known/jwks.json`, like rest.fal.ai's).

The receiving side (`verify_webhook`, the JWKS cache, the aiohttp endpoint) is `bot.fal.webhooks`.
This side builds the signed message on its own, as fal does: the webhook tests prove the two
agree by sending real signed deliveries to the receiver.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import ssl
import time
from dataclasses import dataclass

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.fal.simulated.wire import JSONObject

__all__ = ["WebhookDelivery", "WebhookSigner", "deliver", "signed_message"]
log = logging.getLogger(__name__)


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """The bytes fal signs for one delivery, as fal's webhook docs spell them."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([request_id, user_id, timestamp, digest]).encode("utf-8")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver a webhook (kept for tests)."""

    request_id: str
    url: str
    attempt: int
    status: int | None  # None when the connection failed
    body: bytes


class WebhookSigner:
    """Holds a throw-away Ed25519 key and signs deliveries with it."""

    def __init__(self, user_id: str = "simulated-user") -> None:
        self.user_id = user_id
        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self._public_raw = raw

    def jwks(self) -> JSONObject:
        key: JSONObject = {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(self._public_raw),
            "kid": self.key_id,
            "use": "sig",
            "alg": "EdDSA",
        }
        return {"keys": [key]}

    def headers(self, request_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
        timestamp = str(int(now if now is not None else time.time()))
        message = signed_message(request_id, self.user_id, timestamp, body)
        return {
            "Content-Type": "application/json",
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": self.user_id,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self._key.sign(message).hex(),
        }


class _NotDelivered(Exception):
    pass


async def deliver(
    signer: WebhookSigner,
    url: str,
    request_id: str,
    payload: JSONObject,
    *,
    attempts: int,
    first_delay: float,
    ssl_context: ssl.SSLContext | None,
    record: list[WebhookDelivery],
) -> bool:
    """POST the payload, retrying non-2xx answers and connection errors with backoff (fal
    retries 10 times over 2 hours; here `attempts` times from `first_delay`). True if delivered."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    timeout = aiohttp.ClientTimeout(total=15)  # fal's docs: 15 s per delivery
    connector = aiohttp.TCPConnector(ssl=ssl_context) if ssl_context else None
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential(multiplier=first_delay, max=first_delay * 16),
                retry=retry_if_exception_type(_NotDelivered),
                reraise=True,
            ):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    await _post_once(session, signer, url, request_id, body, number, record)
        except _NotDelivered:
            log.warning("webhook for %s not delivered after %d attempts", request_id, attempts)
            return False
    return True


async def _post_once(
    session: aiohttp.ClientSession,
    signer: WebhookSigner,
    url: str,
    request_id: str,
    body: bytes,
    number: int,
    record: list[WebhookDelivery],
) -> None:
    try:
        async with session.post(url, data=body, headers=signer.headers(request_id, body)) as reply:
            status = reply.status
    except (aiohttp.ClientError, TimeoutError) as error:
        record.append(WebhookDelivery(request_id, url, number, None, body))
        raise _NotDelivered(str(error)) from error
    record.append(WebhookDelivery(request_id, url, number, status, body))
    if not 200 <= status < 300:
        raise _NotDelivered(f"HTTP {status}")
