"""bot.fal.webhooks: fal's signed callbacks, delivered for real by the simulated fal."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from falkit import arguments

from bot.fal.gateway import FalGateway
from bot.fal.simulated import SimulatedFal
from bot.fal.simulated.webhooks import WebhookSigner
from bot.fal.webhooks import JWKS_KEY, PATH, JwksCache, verify_webhook, webhook_app
from bot.settings import Settings


@dataclass
class Sink:
    """Records deliveries; fails the first `fail` of them."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hints: list[str | None] = field(default_factory=list)
    fail: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_webhook(
        self, request_id: str, body: dict[str, Any], job_hint: str | None = None
    ) -> None:
        self.calls.append((request_id, body))
        self.hints.append(job_hint)
        self.arrived.set()
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("database is down")


@dataclass
class Receiver:
    url: str
    sink: Sink
    jwks: JwksCache

    async def post(self, body: bytes, headers: dict[str, str]) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as reply,
        ):
            return reply.status


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}{PATH}"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mono() -> Monotonic:
    return Monotonic()


@pytest.fixture
async def receiver(
    settings: Settings, fal: SimulatedFal, mono: Monotonic
) -> AsyncIterator[Receiver]:
    settings = settings.model_copy(update={"fal_jwks_url": fal.jwks_url})
    jwks = JwksCache(settings.fal_jwks_url, ssl=fal.ssl_context(), clock=mono)
    sink = Sink()
    runner, url = await serve(webhook_app(settings, sink, jwks=jwks))
    try:
        yield Receiver(url, sink, jwks)
    finally:
        await runner.cleanup()


def signed(signer: WebhookSigner, body: dict[str, Any], **kw: Any) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, signer.headers(body["request_id"], raw, **kw)


BODY = {"request_id": "req-1", "gateway_request_id": "req-1", "status": "OK", "payload": {}}


async def test_a_real_job_is_delivered_signed_and_verified(
    receiver: Receiver, gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    webhook_url = receiver.url + "?job=job-42"
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=webhook_url)
    fal.finish(request_id)
    async with asyncio.timeout(10):
        await receiver.sink.arrived.wait()
    [(got_id, body)] = receiver.sink.calls
    assert got_id == request_id and body["request_id"] == request_id
    assert receiver.sink.hints == ["job-42"]
    assert body["status"] == "OK" and body["payload"]["video"]["content_type"] == "video/mp4"
    [delivery] = await fal.wait_for_webhooks(1)
    assert delivery.status == 200
    headers = fal.signer.headers(request_id, delivery.body)
    assert verify_webhook(headers, delivery.body, fal.signer.jwks())


async def test_a_failed_job_is_delivered_as_error(
    receiver: Receiver, gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.faults.safety_rejection = True
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=receiver.url)
    fal.finish(request_id)
    async with asyncio.timeout(10):
        await receiver.sink.arrived.wait()
    [(_, body)] = receiver.sink.calls
    assert body["status"] == "ERROR"
    assert body["payload"]["detail"][0]["type"] == "content_policy_violation"


async def test_a_failing_sink_gets_500_and_fal_delivers_again(
    receiver: Receiver, gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    receiver.sink.fail = 1
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=receiver.url)
    fal.finish(request_id)
    deliveries = await fal.wait_for_webhooks(2, timeout=10)  # fal retries a 500 with backoff
    assert [d.status for d in deliveries] == [500, 200]
    assert [rid for rid, _ in receiver.sink.calls] == [request_id, request_id]


async def test_tampered_body_is_refused(receiver: Receiver, fal: SimulatedFal) -> None:
    raw, headers = signed(fal.signer, BODY)
    tampered = raw.replace(b'"OK"', b'"ERROR"')
    assert await receiver.post(tampered, headers) == 401
    assert await receiver.post(raw, headers) == 200  # the untouched one passes
    assert [rid for rid, _ in receiver.sink.calls] == ["req-1"]


async def test_wrong_key_is_refused_without_hammering_the_jwks(
    receiver: Receiver, fal: SimulatedFal
) -> None:
    raw, headers = signed(WebhookSigner(user_id=fal.signer.user_id), BODY)
    assert await receiver.post(raw, headers) == 401
    assert await receiver.post(raw, headers) == 401
    assert receiver.sink.calls == []
    assert receiver.jwks.fetches == 1  # a forged delivery does not make us refetch each time


async def test_rotated_key_is_picked_up_by_one_refetch(
    receiver: Receiver, fal: SimulatedFal, mono: Monotonic
) -> None:
    raw, headers = signed(fal.signer, BODY)
    assert await receiver.post(raw, headers) == 200
    fal.signer = WebhookSigner()  # fal rotates its key; the JWKS now serves the new one
    mono.now += 120  # past the refetch cooldown, well within the day-long cache
    raw, headers = signed(fal.signer, BODY)
    assert await receiver.post(raw, headers) == 200
    assert receiver.jwks.fetches == 2 and len(receiver.sink.calls) == 2


@pytest.mark.parametrize("offset", [-301, 301])
async def test_stale_timestamp_is_refused(
    receiver: Receiver, fal: SimulatedFal, offset: int
) -> None:
    raw, headers = signed(fal.signer, BODY, now=time.time() + offset)
    assert await receiver.post(raw, headers) == 401
    assert receiver.sink.calls == []


@pytest.mark.parametrize(
    "missing",
    [
        "X-Fal-Webhook-Request-Id",
        "X-Fal-Webhook-User-Id",
        "X-Fal-Webhook-Timestamp",
        "X-Fal-Webhook-Signature",
    ],
)
async def test_missing_header_is_refused(
    receiver: Receiver, fal: SimulatedFal, missing: str
) -> None:
    raw, headers = signed(fal.signer, BODY)
    del headers[missing]
    assert await receiver.post(raw, headers) == 401
    assert receiver.sink.calls == []


async def test_unsigned_is_refused(receiver: Receiver) -> None:
    assert await receiver.post(json.dumps(BODY).encode(), {}) == 401
    assert receiver.sink.calls == []


async def test_signed_body_naming_another_request_is_refused(
    receiver: Receiver, fal: SimulatedFal
) -> None:
    raw = json.dumps({**BODY, "request_id": "someone-else"}).encode()
    headers = fal.signer.headers("req-1", raw)
    assert await receiver.post(raw, headers) == 400
    assert await receiver.post(b"not json", fal.signer.headers("req-1", b"not json")) == 400
    assert receiver.sink.calls == []


async def test_injected_clock_decides_freshness(settings: Settings, fal: SimulatedFal) -> None:
    then = 1_700_000_000.0
    sink = Sink()
    settings = settings.model_copy(update={"fal_jwks_url": fal.jwks_url})
    app = webhook_app(settings, sink, ssl_context=fal.ssl_context(), clock=lambda: then)
    runner, url = await serve(app)
    try:
        receiver = Receiver(url, sink, app[JWKS_KEY])
        raw, headers = signed(fal.signer, BODY, now=then - 299)
        assert await receiver.post(raw, headers) == 200
        raw, headers = signed(fal.signer, BODY)  # "now" for fal, 3 years ahead for us
        assert await receiver.post(raw, headers) == 401
    finally:
        await runner.cleanup()
    assert len(sink.calls) == 1


async def test_unreachable_jwks_answers_503_so_fal_retries(
    settings: Settings, fal: SimulatedFal
) -> None:
    settings = settings.model_copy(update={"fal_jwks_url": fal.rest_url + "/no-such-jwks"})
    sink = Sink()
    runner, url = await serve(webhook_app(settings, sink, ssl_context=fal.ssl_context()))
    try:
        raw, headers = signed(fal.signer, BODY)
        assert await Receiver(url, sink, JwksCache("unused")).post(raw, headers) == 503
    finally:
        await runner.cleanup()
    assert sink.calls == []


def test_verify_webhook_helper(fal: SimulatedFal) -> None:
    raw, headers = signed(fal.signer, BODY)
    jwks = fal.signer.jwks()
    assert verify_webhook(headers, raw, jwks)
    assert not verify_webhook(headers, raw + b" ", jwks)
    assert not verify_webhook(headers, raw, WebhookSigner().jwks())
    assert not verify_webhook(headers, raw, jwks, now=time.time() + 600)
