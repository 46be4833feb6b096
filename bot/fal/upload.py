"""Uploads to fal's CDN (v3) through one long-lived httpx client, spoken as fal_client 1.0.3 does.

fal_client's `AsyncClient.upload` builds a new `httpx.AsyncClient` for every upload and another
for every token refresh, and each one builds an SSL context, loading the CA bundle on the event
loop (about 86 ms per job in the bench). This uploader keeps one client, built once off the loop,
for the bot's life. On the wire nothing changes (fal_client/client.py, 1.0.3):

1. `POST {REST_URL}/storage/auth/token?storage_type=fal-cdn-v3` with `Authorization: Key ...`,
   `Accept` and `Content-Type: application/json` and the body `{}` answers
   `{token, token_type, base_url, expires_at}`; the token is kept until it expires (here: until
   a minute before, and dropped at once if the CDN refuses it).
2. `POST {CDN_URL}/files/upload` with the bytes, `Content-Type`, `X-Fal-File-Name`,
   `Authorization: {token_type} {token}` and fal_client's User-Agent answers `{access_url}`.
   Like fal_client given `StorageSettings(expires_in=...)`, it sends the lifecycle as
   `X-Fal-Object-Lifecycle` and `X-Fal-Object-Lifecycle-Preference`,
   `{"expiration_duration_seconds": N}`: fal deletes the sheet N seconds later
   (https://fal.ai/docs/documentation/model-apis/media-expiration), instead of keeping it public
   for as long as its default allows. No access rule is set: fal's docs do not say the model
   could still read a sheet restricted to our account.

`REST_URL` and `CDN_URL` are read from fal_client's module at each call, as fal_client does, so
`point_fal_client` aims both clients at once. Files over fal_client's multipart threshold are
left to fal_client (a sanitised sheet is never that large).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import fal_client.client as fal_http
import httpx

from bot.errors import FalUnavailable
from bot.fal.answers import error_from_response

# Refresh a little early, so a token never expires between the check and its use.
_EARLY = timedelta(seconds=60)
REUSE_UPLOAD_FOR = timedelta(hours=24)
RENDER_MARGIN = timedelta(hours=1)  # fal reads the sheet when the render starts; this is slack


def sheet_lifetime(start_timeout_s: float | None) -> timedelta:
    """How long fal must keep a sheet: the last job reusing it may start
    `REUSE_UPLOAD_FOR` after the upload and wait up to the start timeout in fal's queue."""
    return REUSE_UPLOAD_FOR + timedelta(seconds=start_timeout_s or 0) + RENDER_MARGIN


@dataclass(frozen=True, slots=True)
class _Token:
    header: str  # "{token_type} {token}"
    expires_at: datetime

    def usable(self, now: datetime) -> bool:
        return now + _EARLY < self.expires_at


class CdnUploader:
    """fal's v3 upload (token, then POST) over one pooled client, created on first use."""

    def __init__(
        self,
        *,
        key_header: str,
        verify: ssl.SSLContext | bool,
        timeout: float,
        keep_for: timedelta | None = None,
    ) -> None:
        self._key_header = key_header  # "Key <id>:<secret>": only ever sent, never shown
        seconds = int((keep_for or sheet_lifetime(None)).total_seconds())
        lifecycle = json.dumps({"expiration_duration_seconds": seconds})
        # fal_client sends both: the CDN reads the first, storage-backed uploads the second.
        self._lifecycle = {
            "X-Fal-Object-Lifecycle": lifecycle,
            "X-Fal-Object-Lifecycle-Preference": lifecycle,
        }
        self._verify = verify
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._building = asyncio.Lock()
        self._token: _Token | None = None
        self._refreshing = asyncio.Lock()
        self.clients_built = 0  # for tests and the bench: stays 1 for the gateway's life
        # Teams reuse one reference sheet for many videos: the same bytes are uploaded once
        # per `REUSE_UPLOAD_FOR` (fal's CDN keeps files at least 7 days).
        self._uploaded: dict[str, tuple[str, datetime]] = {}
        self._uploading: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"CdnUploader(clients_built={self.clients_built})"

    async def upload(self, data: bytes, *, content_type: str, file_name: str) -> str:
        """One attempt: store `data`, return its URL (the earlier one when the same bytes were
        stored lately). Raises GenerationFailed (FalUnavailable when worth retrying); httpx
        transport errors are left to the caller to translate."""
        digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
        known = self._uploaded.get(digest)
        if known is not None and known[1] > datetime.now(UTC):
            return known[0]
        # Jobs starting together with one sheet wait for the one upload already under way.
        lock = self._uploading.setdefault(digest, asyncio.Lock())
        async with lock:
            known = self._uploaded.get(digest)
            if known is not None and known[1] > datetime.now(UTC):
                return known[0]
            url = await self._store(data, content_type=content_type, file_name=file_name)
            self._uploaded[digest] = (url, datetime.now(UTC) + REUSE_UPLOAD_FOR)
        self._uploading.pop(digest, None)
        return url

    async def _store(self, data: bytes, *, content_type: str, file_name: str) -> str:
        client = await self.client()
        for attempt in (1, 2):
            token = await self._current_token(client)
            response = await client.post(
                fal_http.CDN_URL + "/files/upload",
                content=data,
                headers={
                    "Content-Type": content_type,
                    "X-Fal-File-Name": file_name,
                    "Authorization": token.header,
                    "User-Agent": fal_http.USER_AGENT,
                    **self._lifecycle,
                },
            )
            if response.status_code == 401 and attempt == 1:
                self._token = None  # revoked or expired early: fetch a new one, once
                continue
            if response.status_code >= 400:
                raise _error(response, "uploading the reference sheet")
            try:
                return str(response.json()["access_url"])
            except (ValueError, KeyError, TypeError):
                raise FalUnavailable(
                    "fal's storage answer could not be read while uploading the reference sheet"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def client(self) -> httpx.AsyncClient:
        """The one client; built in a thread, since building it loads the CA bundle."""
        if self._client is None:
            async with self._building:
                if self._client is None:
                    self._client = await asyncio.to_thread(self._build)
        return self._client

    def _build(self) -> httpx.AsyncClient:
        if self._verify is True:  # what httpx would load itself, honouring SSL_CERT_FILE
            self._verify = httpx.create_ssl_context(verify=True)
        self.clients_built += 1
        return httpx.AsyncClient(verify=self._verify, timeout=self._timeout)

    async def _current_token(self, client: httpx.AsyncClient) -> _Token:
        token = self._token
        if token is not None and token.usable(datetime.now(UTC)):
            return token
        async with self._refreshing:  # one refresh for every upload that found it stale
            token = self._token
            if token is None or not token.usable(datetime.now(UTC)):
                token = self._token = await self._fetch_token(client)
        return token

    async def _fetch_token(self, client: httpx.AsyncClient) -> _Token:
        response = await client.post(
            f"{fal_http.REST_URL}/storage/auth/token?storage_type=fal-cdn-v3",
            headers={
                "Authorization": self._key_header,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            json={},
        )
        if response.status_code >= 400:
            raise _error(response, "getting a storage token")
        try:
            body = response.json()
            expires = datetime.fromisoformat(body["expires_at"])
            header = f"{body['token_type']} {body['token']}"
        except (ValueError, KeyError, TypeError):
            raise FalUnavailable("fal's storage token could not be read") from None
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return _Token(header, expires)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _error(response: httpx.Response, during: str) -> Exception:
    return error_from_response(
        response.status_code, response.headers, response.content, during=during
    )
