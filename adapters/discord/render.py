"""Neutral Replies and Buttons as Discord message parts: content, an embed, persistent buttons.

Buttons are `DynamicItem`s whose custom_id carries the action and the job id
(`ltx:reroll:<job>`), so a click is understood by any process of the bot, after restarts too.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeAlias

import discord

from bot.model import Button, ButtonAction, Reply

CONTENT_LIMIT = 2000
FIELD_LIMIT = 1024
ACTIONS = "|".join(action.value for action in ButtonAction)
TEMPLATE = rf"ltx:(?P<action>{ACTIONS}):(?P<job_id>[A-Za-z0-9_-]{{1,80}})"


class Presser(Protocol):
    async def on_button(
        self, interaction: discord.Interaction, action: ButtonAction, job_id: str
    ) -> None: ...


def presser_of(client: discord.Client) -> Presser:
    # Set by adapters.discord.client.LtxClient, a subclass this module cannot import (cycle).
    presser: Presser = client.ltx_presser  # type: ignore[attr-defined]
    return presser


# The action each prompt invites; the rest stay grey (danger ones red).
_PRIMARY = frozenset(
    {
        ButtonAction.REROLL,
        ButtonAction.FINAL,
        ButtonAction.CONFIRM,
        ButtonAction.REQUEST_APPROVAL,
        ButtonAction.APPROVE,
    }
)


class JobButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=TEMPLATE):
    """Cancel / Reroll / Final / Details / Confirm / Abort for one job; stateless apart from
    its id."""

    def __init__(self, action: ButtonAction, job_id: str, label: str = "", danger: bool = False):
        style = discord.ButtonStyle.danger if danger else discord.ButtonStyle.secondary
        if action in _PRIMARY:
            style = discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(
                label=(label or action.value.title())[:80],
                style=style,
                custom_id=f"ltx:{action.value}:{job_id}",
            )
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],  # Any: `Item[Any]`, as discord.py's DynamicItem declares it
        match: re.Match[str],
        /,
    ) -> JobButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(ButtonAction(match["action"]), match["job_id"], label or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await presser_of(interaction.client).on_button(interaction, self.action, self.job_id)


def view_of(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        view.add_item(JobButton(button.action, button.job_id, button.label, button.danger))
    return view


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Keyword arguments for discord.py's `send`/`edit`; Any-valued, as its overloaded `send` takes
# no TypedDict unpacked into it.
MessageParts: TypeAlias = dict[str, Any]


def message_parts(reply: Reply, extra: str = "") -> MessageParts:
    """Keyword arguments for `send`/`edit`: content, embed (the fields), view (the buttons)."""
    content = reply.text + (f"\n{extra}" if extra else "")
    parts: MessageParts = {"content": clip(content, CONTENT_LIMIT)}
    if reply.fields:
        embed = discord.Embed()
        for name, value in reply.fields[:25]:
            embed.add_field(
                name=clip(name, 256), value=clip(value or "-", FIELD_LIMIT), inline=len(value) < 40
            )
        parts["embed"] = embed
    view = view_of(reply.buttons)
    if view is not None:
        parts["view"] = view
    return parts
