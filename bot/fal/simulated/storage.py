"""fal's storage as fal_client 1.0.3 uses it: CDN tokens, v3 uploads (single and multipart), the
legacy GCS-style initiate + PUT fallback, and public GETs of every stored file.

Routes (relative to the server root):
  POST|GET /rest/storage/auth/token?storage_type=fal-cdn-v3   (Authorization: Key ...)
  POST     /rest/storage/upload/initiate?storage_type=gcs      -> {upload_url, file_url}
  PUT      /cdn/uploads/{key}                                   (the upload_url above)
  POST     /cdn/files/upload                                    (Authorization: Bearer <token>)
  POST     /cdn/files/upload/multipart                          -> {access_url, uploadId}
  PUT      /cdn/files/{key}/{name}/multipart/{upload_id}/{part} -> ETag
  POST     /cdn/files/{key}/{name}/multipart/{upload_id}/complete
  GET      /cdn/files/{key}/{name}
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import mimetypes
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.fal.simulated.errors import detail_response, request_error_response

if TYPE_CHECKING:
    from bot.fal.simulated.server import SimulatedFal

TOKEN_LIFETIME = timedelta(hours=1)


@dataclass
class StoredFile:
    """One file in the simulated CDN."""

    key: str
    name: str
    path: Path
    content_type: str
    size: int
    is_video: bool = False


@dataclass
class _Multipart:
    key: str
    name: str
    content_type: str
    parts: dict[int, bytes] = field(default_factory=dict)


class Storage:
    """Files on disk under `root`, indexed by key; the handlers are bound to a SimulatedFal."""

    def __init__(self, fal: SimulatedFal, root: Path) -> None:
        self._fal = fal
        self.root = root
        self.files: dict[str, StoredFile] = {}
        self._tokens: set[str] = set()
        self._pending_puts: dict[str, tuple[str, str]] = {}
        self._multiparts: dict[str, _Multipart] = {}
        self.token_lifetime = TOKEN_LIFETIME  # shorten it to make clients refresh
        self.tokens_issued = 0
        self.upload_headers: list[dict[str, str]] = []  # each v3 upload's headers, as sent
        self.videos_served = 0  # GETs of a result video (a download, or a download again)

    def revoke_tokens(self) -> None:
        """Forget every CDN token (uploads with one get 401 until a new token is fetched)."""
        self._tokens.clear()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/rest/storage/auth/token", self.token),
            web.get("/rest/storage/auth/token", self.token),
            web.post("/rest/storage/upload/initiate", self.initiate),
            web.put("/cdn/uploads/{key}", self.put_upload),
            web.post("/cdn/files/upload", self.upload),
            web.post("/cdn/files/upload/multipart", self.multipart_create),
            web.put("/cdn/files/{key}/{name}/multipart/{upload_id}/{part:\\d+}", self.part),
            web.post("/cdn/files/{key}/{name}/multipart/{upload_id}/complete", self.complete),
            web.get("/cdn/files/{key}/{name}", self.serve),
        ]

    # --- storing ---

    def save(self, data: bytes, name: str, content_type: str, *, is_video: bool = False) -> str:
        """Store bytes (blocking: small writes, or call in a thread) and return the public URL."""
        key = secrets.token_hex(8)
        safe = _safe_name(name)
        path = self.root / f"{key}_{safe}"
        path.write_bytes(data)
        return self._register(key, safe, path, content_type, is_video)

    def adopt(self, path: Path, name: str, content_type: str, *, is_video: bool = False) -> str:
        """Serve a file already written under `root` (a rendered video)."""
        return self._register(secrets.token_hex(8), _safe_name(name), path, content_type, is_video)

    def _register(self, key: str, name: str, path: Path, content_type: str, is_video: bool) -> str:
        self.files[key] = StoredFile(key, name, path, content_type, path.stat().st_size, is_video)
        return self.url_of(key)

    def url_of(self, key: str) -> str:
        return f"{self._fal.public_base}/cdn/files/{key}/{self.files[key].name}"

    def lookup(self, url: str) -> StoredFile | None:
        """The stored file behind one of our own URLs (any host we answer to), else None."""
        marker = "/cdn/files/"
        if marker not in url or not self._fal.is_own_url(url):
            return None
        key = url.split(marker, 1)[1].split("/", 1)[0]
        return self.files.get(key)

    def read_sheet(self, url: str) -> bytes | None:
        """The image behind `image_url`: our own CDN files and data URIs; None otherwise."""
        if url.startswith("data:"):
            header, _, payload = url.partition(",")
            try:
                return base64.b64decode(payload) if header.endswith(";base64") else payload.encode()
            except binascii.Error:
                return None
        stored = self.lookup(url)
        return stored.path.read_bytes() if stored is not None else None

    # --- handlers ---

    async def token(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._fal.check_key(request)) is not None:
            return denied
        if self._fal.faults.take("upload_error_next"):
            return request_error_response("internal_error")
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        self.tokens_issued += 1
        expires = datetime.now(UTC) + self.token_lifetime
        return web.json_response(
            {
                "token": token,
                "token_type": "Bearer",
                "base_url": self._fal.cdn_url,
                "expires_at": expires.isoformat(),
            }
        )

    def _check_token(self, request: web.Request) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self._tokens:
            return detail_response("Invalid or expired token", status=401)
        return None

    async def upload(self, request: web.Request) -> web.StreamResponse:
        self.upload_headers.append(dict(request.headers))
        if (denied := self._check_token(request)) is not None:
            return denied
        if self._fal.faults.take("upload_error_next"):
            return request_error_response("internal_error")
        data = await request.read()
        name, content_type = _name_and_type(request)
        url = await asyncio.to_thread(self.save, data, name, content_type)
        return web.json_response(
            {
                "access_url": url,
                "content_type": content_type,
                "file_name": name,
                "file_size": len(data),
            }
        )

    async def initiate(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._fal.check_key(request)) is not None:
            return denied
        body = await request.json()
        name = _safe_name(str(body.get("file_name") or "upload.bin"))
        content_type = str(body.get("content_type") or "application/octet-stream")
        key = secrets.token_hex(8)
        self._pending_puts[key] = (name, content_type)
        base = self._fal.public_base
        return web.json_response(
            {
                "upload_url": f"{base}/cdn/uploads/{key}",
                "file_url": f"{base}/cdn/files/{key}/{name}",
            }
        )

    async def put_upload(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        if key not in self._pending_puts:
            return detail_response("Upload not found", status=404)
        name, content_type = self._pending_puts.pop(key)
        data = await request.read()
        path = self.root / f"{key}_{name}"
        await asyncio.to_thread(path.write_bytes, data)
        self._register(key, name, path, content_type, False)
        return web.Response(status=200)

    async def multipart_create(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_token(request)) is not None:
            return denied
        name, content_type = _name_and_type(request)
        key, upload_id = secrets.token_hex(8), secrets.token_hex(12)
        self._multiparts[upload_id] = _Multipart(key, name, content_type)
        access_url = f"{self._fal.public_base}/cdn/files/{key}/{name}"
        return web.json_response({"access_url": access_url, "uploadId": upload_id})

    async def part(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_token(request)) is not None:
            return denied
        upload = self._multiparts.get(request.match_info["upload_id"])
        if upload is None:
            return detail_response("Upload not found", status=404)
        data = await request.read()
        upload.parts[int(request.match_info["part"])] = data
        return web.Response(headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    async def complete(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._check_token(request)) is not None:
            return denied
        upload = self._multiparts.pop(request.match_info["upload_id"], None)
        if upload is None:
            return detail_response("Upload not found", status=404)
        listed = [int(p["partNumber"]) for p in (await request.json()).get("parts", [])]
        if sorted(listed) != sorted(upload.parts):
            return detail_response("Parts do not match the uploaded parts", status=400)
        data = b"".join(upload.parts[n] for n in sorted(upload.parts))
        path = self.root / f"{upload.key}_{upload.name}"
        await asyncio.to_thread(path.write_bytes, data)
        self._register(upload.key, upload.name, path, upload.content_type, False)
        return web.json_response({"access_url": self.url_of(upload.key)})

    async def serve(self, request: web.Request) -> web.StreamResponse:
        stored = self.files.get(request.match_info["key"])
        if stored is None or stored.name != request.match_info["name"]:
            return web.Response(status=404, text="Not Found")
        faults = self._fal.faults
        if stored.is_video and faults.video_404:
            return web.Response(status=404, text="Not Found")
        if stored.is_video and request.method == "GET":
            self.videos_served += 1
        if stored.is_video and faults.truncated_video and request.method == "GET":
            return await _send_truncated(request, stored)
        return web.FileResponse(stored.path, headers={"Content-Type": stored.content_type})


async def _send_truncated(request: web.Request, stored: StoredFile) -> web.StreamResponse:
    """Promise the whole file, send half, then close the socket."""
    data = await asyncio.to_thread(stored.path.read_bytes)
    response = web.StreamResponse(headers={"Content-Type": stored.content_type})
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: len(data) // 2])
    if request.transport is not None:
        request.transport.abort()
    return response


def _name_and_type(request: web.Request) -> tuple[str, str]:
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    default = "upload" + (mimetypes.guess_extension(content_type) or ".bin")
    return _safe_name(request.headers.get("X-Fal-File-Name") or default), content_type


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)
    return cleaned.strip(".") or "file.bin"
