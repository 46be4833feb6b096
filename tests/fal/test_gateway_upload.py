"""Uploads through the gateway's one long-lived httpx client, speaking fal_client's protocol."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import fal_client
import httpx
import pytest
from falkit import png_bytes

from bot.fal.gateway import FalGateway
from bot.fal.simulated import SimulatedFal


@pytest.fixture
def clients_built(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every httpx.AsyncClient built from now on, by anyone (fal_client included)."""
    built: list[httpx.AsyncClient] = []
    original = httpx.AsyncClient.__init__

    def counting(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counting)
    return built


_sheets = iter(range(100, 400))


async def upload(gateway: FalGateway, name: str = "sheet.png", data: bytes | None = None) -> str:
    """Upload a sheet; a different one each call unless `data` is given (the same bytes are
    stored once, see test_the_same_sheet_is_stored_once)."""
    data = data if data is not None else png_bytes(next(_sheets), 200)
    return await gateway.upload(data, content_type="image/png", file_name=name)


async def test_several_uploads_share_one_client_and_one_token(
    gateway: FalGateway, fal: SimulatedFal, clients_built: list[httpx.AsyncClient]
) -> None:
    urls = [await upload(gateway, f"sheet-{n}.png") for n in range(4)]
    assert len(set(urls)) == 4
    assert all(fal.storage.lookup(url) is not None for url in urls)
    # fal_client itself builds one client per upload and one per token refresh (5 here).
    assert len(clients_built) == 1
    assert fal.storage.tokens_issued == 1


async def test_uploads_send_what_fal_client_sends(gateway: FalGateway, fal: SimulatedFal) -> None:
    await upload(gateway, "ours.png")
    theirs = fal_client.AsyncClient(key="simulated")
    await theirs.upload(png_bytes(), "image/png", "theirs.png", fallback_repository=[])
    ours_sent, theirs_sent = (
        {k.lower(): v for k, v in headers.items()} for headers in fal.storage.upload_headers
    )
    for name in ("content-type", "user-agent"):
        assert ours_sent[name] == theirs_sent[name]
    assert ours_sent["x-fal-file-name"] == "ours.png"
    assert ours_sent["authorization"].split()[0] == theirs_sent["authorization"].split()[0]


async def test_an_expiring_token_is_refreshed_on_the_same_client(
    gateway: FalGateway, fal: SimulatedFal, clients_built: list[httpx.AsyncClient]
) -> None:
    fal.storage.token_lifetime = timedelta(seconds=30)  # inside the refresh margin
    await upload(gateway)
    await upload(gateway)
    assert fal.storage.tokens_issued == 2 and len(clients_built) == 1


async def test_a_revoked_token_is_replaced_once_and_the_upload_goes_through(
    gateway: FalGateway, fal: SimulatedFal
) -> None:
    await upload(gateway)
    fal.storage.revoke_tokens()
    url = await upload(gateway)
    assert fal.storage.lookup(url) is not None
    assert fal.storage.tokens_issued == 2
    # The first upload, the one refused with the revoked token, its retry with the new one.
    assert len(fal.storage.upload_headers) == 3


async def test_the_same_sheet_is_stored_once(gateway: FalGateway, fal: SimulatedFal) -> None:
    sheet = png_bytes()
    first = await upload(gateway, "a.png", sheet)
    again = await upload(gateway, "b.png", sheet)
    other = await upload(gateway, "c.png")
    assert first == again != other
    assert len(fal.storage.upload_headers) == 2  # the repeated sheet was not sent again


async def test_a_sheet_is_uploaded_to_expire_after_its_last_possible_use(
    gateway: FalGateway, fal: SimulatedFal
) -> None:
    await upload(gateway, "ours.png")
    (sent,) = ({k.lower(): v for k, v in h.items()} for h in fal.storage.upload_headers)
    # Reused for 24 h, then up to the start timeout in fal's queue, and an hour to render.
    expected = 24 * 3600 + int(gateway.start_timeout or 0) + 3600
    for header in ("x-fal-object-lifecycle", "x-fal-object-lifecycle-preference"):
        assert json.loads(sent[header]) == {"expiration_duration_seconds": expected}
