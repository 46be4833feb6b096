"""What Slack does to slash command text, undone: escaped `& < >`, mentions, links.

With "Escape channels, users, and links" on (`should_escape: true` in the manifest), a typed
`@alice` arrives as `<@U123|alice>`, a user group as `<!subteam^S123|@interns>`, a channel as
`<#C123|general>`. Admin options need the ids; a prompt or a reason wants the readable text.
"""

from __future__ import annotations

import re

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_GROUP = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")
_CHANNEL = re.compile(r"^<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
# <@U1|alice> <#C1|general> <!subteam^S1|@team> <!here> <https://x|label> <mailto:a@b|a@b>
_MARKUP = re.compile(r"<([@#!])?([^<>|]*)(?:\|([^<>]*))?>")
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
PLAIN_MENTION = (
    "Slack sent {name} as plain text, not as a mention: pick it from Slack's "
    "autocomplete with “Escape channels, users, and links” turned on for /ltx "
    "(the manifest sets should_escape: true), or give its id ({kind}…)."
)


def straight_quotes(text: str) -> str:
    """Curly quotes (macOS and phones put them in) as the straight ones shlex understands."""
    return text.translate(_SMART_QUOTES)


def readable(text: str) -> str:
    """Slack's markup as the text the person saw: `<@U1|alice>` -> `@alice`, `&amp;` -> `&`."""

    def one(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return "@" + (label or target)
        if sigil == "#":
            return "#" + (label or target)
        if sigil == "!":
            if target.startswith("subteam^"):
                return label or "@" + target.removeprefix("subteam^")
            return "@" + target  # <!here>, <!channel>: kept as words, never as a ping
        return label or target

    plain = _MARKUP.sub(one, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def subject_id(text: str) -> str | None:
    """The member or user group id in a mention (or a bare member id); None otherwise."""
    text = text.strip()
    for pattern in (_USER, _GROUP):
        match = pattern.match(text)
        if match:
            return match.group(1)
    return text if _USER_ID.match(text) else None


def channel_id(text: str) -> str | None:
    """The channel id in a channel mention (or a bare channel id); None otherwise."""
    text = text.strip()
    match = _CHANNEL.match(text)
    if match:
        return match.group(1)
    return text if _CHANNEL_ID.match(text) else None
