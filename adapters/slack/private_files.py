"""A Reply's file (the usage chart, the ledger CSV) sent privately: in a direct message.

Slack has no ephemeral files: anything uploaded into a channel is seen by all its members,
and these files show every member's spend. So the file goes into the app's direct message with
the person who asked (conversations.open, scope `im:write`), and the ephemeral answer says so.
When no direct message can be opened (an install from before `im:write` was asked for), the
file is not posted anywhere and the answer says what to fix; a public upload is never the
fallback.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import plain

log = logging.getLogger(__name__)
SENT = "The file ({name}) is in your direct messages with the app."
NO_DM = (
    "I could not open a direct message with you ({error}), so the file was not posted: it "
    "shows everyone's spend. Ask whoever installed the app to reinstall it with the im:write "
    "scope."
)
NOT_UPLOADED = "Slack refused the upload of {name} ({error}); nothing was posted."


async def send_privately(
    client: AsyncWebClient, user_id: str, path: Path, comment: str, *, name: str | None = None
) -> str:
    """Upload `path` into the app's DM with `user_id`, named `name` (else its own name);
    returns a sentence for the answer."""
    name = name or path.name
    try:
        opened = await client.conversations_open(users=user_id)
        channel = str((opened.get("channel") or {}).get("id") or "")
    except SlackApiError as error:
        reason = str(error.response.get("error") or "refused")
        log.warning("conversations.open for %s failed: %s", user_id, reason)
        return NO_DM.format(error=reason)
    data = await asyncio.to_thread(path.read_bytes)
    try:
        await client.files_upload_v2(
            channel=channel,
            content=data,
            filename=name,
            title=name,
            initial_comment=plain(comment, 3000),
        )
    except SlackApiError as error:
        reason = str(error.response.get("error") or "refused")
        log.warning("upload of %s to %s failed: %s", name, channel, reason)
        return NOT_UPLOADED.format(name=name, error=reason)
    return SENT.format(name=name)
