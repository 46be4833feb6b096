"""Private Slack files as `Attachment`s: fetched with the bot token, checked before use.

files.slack.com answers a request without a valid `Authorization: Bearer` header with an HTML
sign-in page and status 200, so the content type and the first bytes are checked: only a
PNG, JPEG or WebP is handed to the core's sanitiser. The token is only ever sent to Slack's
own hosts (and the configured API host, which tests point at a local fake).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from adapters.slack.modal import SheetRef
from bot.errors import InvalidSheet
from bot.media.intake import accepted_format
from bot.model import Attachment

SIGN_IN_PAGE = (
    "Slack sent a sign-in page instead of the image, so the app cannot read that file. "
    "An admin should reinstall the app with the files:read scope; nothing was charged."
)
CHUNK = 64 * 1024


def token_allowed(url: str, api_url: str) -> bool:
    """Send the bot token only to Slack's hosts (or the configured API's host)."""
    host = (urlsplit(url).hostname or "").lower()
    api_host = (urlsplit(api_url).hostname or "").lower()
    return bool(host) and (host == api_host or host == "slack.com" or host.endswith(".slack.com"))


def slack_attachment(
    sheet: SheetRef, *, token: str, session: aiohttp.ClientSession, api_url: str
) -> Attachment:
    """An Attachment whose `read(limit)` downloads the private file with the bearer token."""

    async def read(limit: int) -> bytes:
        if not sheet.url:
            raise InvalidSheet("Slack gave no download link for that file; attach it again.")
        headers = {"Authorization": f"Bearer {token}"} if token_allowed(sheet.url, api_url) else {}
        async with session.get(sheet.url, headers=headers, allow_redirects=True) as response:
            if response.status != 200:
                raise InvalidSheet(
                    f"Slack would not hand over {sheet.name} (HTTP {response.status}); "
                    "attach it again."
                )
            if response.content_type == "text/html":
                raise InvalidSheet(SIGN_IN_PAGE)
            data = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                data += chunk
                if len(data) > limit:
                    break  # the caller refuses it as too large; no need for the rest
        if accepted_format(bytes(data[:16])) is None and _looks_like_html(bytes(data[:512])):
            raise InvalidSheet(SIGN_IN_PAGE)
        # Anything else goes to the sanitiser, which names wrong formats precisely.
        return bytes(data)

    return Attachment(sheet.name, sheet.mimetype, sheet.size, read)


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))
