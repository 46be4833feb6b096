"""One aiohttp session opened on first use inside the running loop, for fal's CDN downloads and
status streams: it verifies TLS as fal_client does and honours HTTPS_PROXY / NO_PROXY."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

import aiohttp
import httpx

Make = Callable[[ssl.SSLContext | bool], aiohttp.ClientSession]


async def trust(verify: ssl.SSLContext | bool) -> ssl.SSLContext | bool:
    """`verify` for an aiohttp connector: True becomes httpx's default trust (SSL_CERT_FILE, else
    certifi), as fal_client's; built in a thread, since loading the CA bundle blocks."""
    if verify is True:
        return await asyncio.to_thread(httpx.create_ssl_context)
    return verify


class LazySession:
    """`make(ssl context)` called once, on the first `get()`; `aclose()` closes what it made."""

    def __init__(self, verify: ssl.SSLContext | bool, make: Make) -> None:
        self._verify, self._make = verify, make
        self._session: aiohttp.ClientSession | None = None
        self._opening = asyncio.Lock()

    @property
    def opened(self) -> bool:
        return self._session is not None

    async def get(self) -> aiohttp.ClientSession:
        if self._session is None:
            async with self._opening:
                if self._session is None:
                    self._session = self._make(await trust(self._verify))
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
