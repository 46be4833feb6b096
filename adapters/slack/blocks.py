"""Neutral text and Replies as Slack messages: mrkdwn, Block Kit sections and buttons.

Buttons carry `<action>:<job id>` in their value and a fixed action id per action, so a press
works after a restart with nothing but the stored job.
"""

from __future__ import annotations

import re

from bot.model import Button, ButtonAction, JSONObject, Reply

BUTTON_ACTION_PREFIX = "ltx_job_"  # action_id = prefix + action ("ltx_job_cancel")
MAX_SECTION_CHARS = 3000  # Slack's limit for a section's text
MAX_TEXT_CHARS = 40_000  # chat.postMessage's limit for `text`
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
# User and channel mentions are put back after escaping; they link, they never ping everyone.
_ESCAPED_MENTION = re.compile(r"&lt;([@#][UWC][A-Z0-9]+)&gt;")


def mrkdwn(text: str) -> str:
    """The renderers' Markdown as Slack mrkdwn, with user text escaped.

    `&`, `<` and `>` are escaped so a prompt cannot ping `<!channel>` or forge a link; the
    renderers' own user mentions (`<@U123>`) are put back.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _ESCAPED_MENTION.sub(r"<\1>", escaped)
    return _BOLD.sub(r"*\1*", escaped)


def plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fields_text(fields: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f"*{mrkdwn(name)}:* {mrkdwn(value)}" for name, value in fields)


def reply_text(reply: Reply) -> str:
    """The whole reply as one mrkdwn string (notifications, file comments, fallbacks)."""
    parts = [mrkdwn(reply.text)]
    if reply.fields:
        parts.append(fields_text(reply.fields))
    return plain("\n".join(parts), MAX_TEXT_CHARS)


def button_element(button: Button) -> JSONObject:
    element: JSONObject = {
        "type": "button",
        "action_id": BUTTON_ACTION_PREFIX + button.action.value,
        "text": {"type": "plain_text", "text": plain(button.label, 75)},
        "value": f"{button.action.value}:{button.job_id}",
    }
    if button.danger:
        element["style"] = "danger"
    return element


def parse_button_value(value: str) -> tuple[ButtonAction, str] | None:
    """`"cancel:abc123"` back into (action, job id); None for anything we did not make."""
    action, _, job_id = value.partition(":")
    try:
        return ButtonAction(action), job_id
    except ValueError:
        return None


def reply_blocks(reply: Reply) -> list[JSONObject]:
    """Block Kit for a Reply: the text, its fields, its buttons."""
    blocks: list[JSONObject] = [section(mrkdwn(reply.text))]
    if reply.fields:
        blocks.append(section(fields_text(reply.fields)))
    if reply.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "ltx_job_buttons",
                "elements": [button_element(b) for b in reply.buttons],
            }
        )
    return blocks


def section(text: str) -> JSONObject:
    return {"type": "section", "text": {"type": "mrkdwn", "text": plain(text, MAX_SECTION_CHARS)}}


def status_blocks(text: str, buttons: tuple[Button, ...]) -> list[JSONObject]:
    """The public status message: neutral status text plus the job's buttons."""
    return reply_blocks(Reply(text=text, buttons=buttons, ephemeral=False))
