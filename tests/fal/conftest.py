"""Fixtures for the fal gateway tests: a SimulatedFal on 127.0.0.1 (TLS, port 0) and a
FalGateway on it that drives the real fal_client. Nothing really waits: the gateway's `sleep`
is a recorder that only yields to the event loop."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import fal_client.client as fal_module
import pytest
from falkit import _GLOBALS, FAST_RETRY, Sleeps, StepSleeps, arguments, png_bytes  # noqa: F401

from bot.fal.gateway import FalGateway
from bot.fal.on_simulated import gateway_on_simulated
from bot.fal.simulated import SimulatedFal
from bot.settings import Settings


@pytest.fixture(autouse=True)
def restore_fal_client() -> Iterator[None]:
    """The gateway aims fal_client's module globals and SSL_CERT_FILE: put them back after."""
    saved = {name: getattr(fal_module, name) for name in _GLOBALS}
    saved_env = os.environ.get("SSL_CERT_FILE")
    yield
    assert os.environ.get("SSL_CERT_FILE") == saved_env, "the gateway left SSL_CERT_FILE set"
    for name, value in saved.items():
        setattr(fal_module, name, value)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]


@pytest.fixture
async def fal(tmp_path: Path) -> AsyncIterator[SimulatedFal]:
    async with SimulatedFal(
        generation_seconds=0.2, queue_seconds=0.1, data_dir=tmp_path / "fal", seed=1
    ) as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def gateway(
    settings: Settings, fal: SimulatedFal, sleeps: Sleeps
) -> AsyncIterator[FalGateway]:
    gateway = gateway_on_simulated(settings, fal, retry=FAST_RETRY, sleep=sleeps)
    try:
        yield gateway
    finally:
        await gateway.aclose()


@pytest.fixture
def sheet_url() -> str:
    """The sheet as a data URI, which fal (and the simulator) reads like a storage URL: the
    upload path has tests of its own, and skipping it here keeps each test quick."""
    return "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


@pytest.fixture
async def uploaded_url(gateway: FalGateway) -> str:
    """The sheet uploaded through fal_client to the simulator's storage, as the bot does."""
    return await gateway.upload(png_bytes(), content_type="image/png", file_name="sheet.png")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Connections opened and reused by every aiohttp session built from now on."""
    counts = {"sessions": 0, "opened": 0, "reused": 0}
    trace = aiohttp.TraceConfig()

    async def opened(*_: Any) -> None:
        counts["opened"] += 1

    async def reused(*_: Any) -> None:
        counts["reused"] += 1

    trace.on_connection_create_end.append(opened)
    trace.on_connection_reuseconn.append(reused)
    original = aiohttp.ClientSession.__init__

    def traced(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        counts["sessions"] += 1
        kwargs["trace_configs"] = [*(kwargs.get("trace_configs") or []), trace]
        original(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", traced)
    yield counts
