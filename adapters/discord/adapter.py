"""The Discord adapter: `/ltx` and `/ltx-admin`, the "Animate with LTX" menu and its form, buttons.

Every interaction is deferred first (Discord allows 3 seconds), ephemerally: errors, refusals,
estimates and hold confirmations are for the person who asked. The public part of a job (the
status message, its thread, the video) is the Poster's, on the bot token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp
import discord
from discord import app_commands

from adapters.discord.acks import AckFirst
from adapters.discord.animate import EXPIRED, context_menu, modal_values, recall
from adapters.discord.client import LtxClient
from adapters.discord.facts import PlaceFacts
from adapters.discord.poster import DiscordPoster
from adapters.discord.render import message_parts
from adapters.discord.sheet_forms import opened_sheet_form, pictures_of
from adapters.discord.slash import admin_group, ltx_group
from adapters.discord.throttle import EditThrottle
from adapters.discord.translate import actor_of, attachment_of, options_of, place_of
from bot.errors import ConfigurationError
from bot.model import Attachment, ButtonAction, Invocation, Platform, Reply
from bot.ports import KeyValueStore
from bot.settings import Settings
from commands import Commands

log = logging.getLogger(__name__)
APOLOGY = "Sorry, something went wrong on our side; nothing was charged."
# Answered in place of the message they are on: a price prompt cannot be pressed twice.
IN_PLACE = (ButtonAction.CONFIRM, ButtonAction.ABORT, ButtonAction.REQUEST_APPROVAL)
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_read=30)


class DiscordAdapter:
    """Built by `adapters.app.platforms.configured_adapters`; `.poster` goes into the core's
    posters. `store` keeps what an open modal needs (the database's, so that restarts keep it)."""

    platform = Platform.DISCORD

    def __init__(
        self,
        settings: Settings,
        commands: Commands,
        *,
        store: KeyValueStore,
        throttle: EditThrottle | None = None,
        gateway: bool = True,
    ) -> None:
        if settings.discord_token is None or not settings.discord_token.get_secret_value():
            raise ConfigurationError("setting LTXBOT_DISCORD_TOKEN is empty")
        self.settings = settings
        self.commands = commands
        self.store = store
        self.guild_ids = _guild_ids(settings.discord_guild_ids)
        # Read by discord.py whenever it builds a request URL, interaction callbacks included.
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
        self.client = LtxClient(self, shards=settings.discord_shards)
        self.facts = PlaceFacts()
        self.acks = AckFirst()
        self.ready = asyncio.Event()
        self.poster = DiscordPoster(self.client, self.facts, ready=self.ready, throttle=throttle)
        self.client.tree.add_command(ltx_group(self.run_command, names=self.sheet_names))
        self.client.tree.add_command(admin_group(self.run_command))
        self.client.tree.add_command(context_menu(store))
        self.client.tree.error(self._on_tree_error)
        self._gateway = gateway and settings.discord_gateway  # off: REST only (posts results)
        self._gateway_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.on_ack: Callable[[float], None] | None = None  # seconds from arrival to deferral

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the commands, then connect to the gateway in the background."""
        token = self.settings.discord_token
        assert token is not None
        try:
            await self.client.login(token.get_secret_value())
        except discord.LoginFailure:  # Discord's 401: one line for the person, not a traceback
            await self.close()  # serve closes only started adapters: its sessions close here
            raise ConfigurationError(
                "setting LTXBOT_DISCORD_TOKEN: Discord refused this token; reset it under Bot "
                "at https://discord.com/developers/applications and set the new one"
            ) from None
        await self.sync_commands()
        self.ready.set()
        if self._gateway:
            self._gateway_task = asyncio.create_task(self._connect(), name="discord-gateway")

    async def sync_commands(self) -> None:
        """To the configured guilds (instant) or globally (can take up to an hour to show)."""
        tree = self.client.tree
        if not self.guild_ids:
            await tree.sync()
            log.info("discord commands synced globally")
            return
        for guild_id in self.guild_ids:
            guild = discord.Object(guild_id)
            tree.copy_global_to(guild=guild)
            try:
                await tree.sync(guild=guild)
            except discord.Forbidden:
                log.error(
                    "discord guild %s refused the commands: invite the bot there with the "
                    "applications.commands scope",
                    guild_id,
                )
        log.info("discord commands synced to %d guild(s)", len(self.guild_ids))

    async def connected(self) -> bool:
        """Logged in with the commands synced and, with the gateway, its session READY (a
        dropped gateway is not ready again until discord.py has resumed it)."""
        if not self.ready.is_set() or self.client.is_closed():
            return False
        return self.client.is_ready() if self._gateway else True

    async def _connect(self) -> None:
        try:
            await self.client.connect()
        except Exception:
            log.exception("discord gateway connection ended")

    async def close(self) -> None:
        await self.poster.throttle.close()
        await self.client.close()
        if self._gateway_task is not None:
            await asyncio.gather(self._gateway_task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # --- interactions ---------------------------------------------------------------------

    async def run_command(
        self, interaction: discord.Interaction, command: str, values: dict[str, object]
    ) -> None:
        """A `/ltx <command>`: defer, translate, dispatch, answer."""
        await self._handle(interaction, lambda: self._invoke(interaction, command, values))

    async def sheet_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete: the server's saved sheets whose names hold what is typed."""
        actor = actor_of(interaction, self.settings.discord_admin_role)
        typed = current.strip().lower()
        names = [n for n in await self.commands.sheet_names(actor) if typed in n.lower()]
        return [app_commands.Choice(name=n, value=n) for n in names[:25]]

    async def on_button(
        self, interaction: discord.Interaction, action: ButtonAction, job_id: str
    ) -> None:
        """Cancel / Reroll / Details...: `Commands.press` refuses others than the requester.
        A composed sheet's buttons open its prompt form instead."""
        if await opened_sheet_form(interaction, action, job_id, self.settings.data_dir):
            return

        async def press() -> Reply:
            actor, place = (
                actor_of(interaction, self.settings.discord_admin_role),
                place_of(interaction),
            )
            return await self.commands.press(action, job_id, actor, place)

        await self._handle(interaction, press, in_place=action in IN_PLACE)

    async def on_modal(self, interaction: discord.Interaction, message_id: str) -> None:
        """The "Animate with LTX" form was submitted (in this process's life or before it):
        generate from the image of the message it names."""
        values = modal_values(interaction.data)
        options: dict[str, object] = {k: v for k, v in values.items() if v}

        async def work() -> Reply:
            target = await recall(self.store, message_id)
            if target is None:
                return Reply(text=EXPIRED, refused=True)
            sheet = target.attachment(self._http_session)
            return await self._dispatch(
                interaction, "generate", options, sheet, origin_message_id=target.message_id
            )

        await self._handle(interaction, work)

    async def _invoke(
        self, interaction: discord.Interaction, command: str, values: dict[str, object]
    ) -> Reply:
        values, pictures = pictures_of(values)  # `/ltx sheet`'s image1..image6
        options, sheet = options_of(values)
        attachment = self._attachment(sheet) if sheet is not None else None
        many = tuple(map(self._attachment, pictures))
        return await self._dispatch(interaction, command, options, attachment, attachments=many)

    async def _dispatch(
        self,
        interaction: discord.Interaction,
        command: str,
        options: dict[str, object],
        attachment: Attachment | None = None,
        origin_message_id: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Reply:
        invocation = Invocation(
            command,
            actor_of(interaction, self.settings.discord_admin_role),
            place_of(interaction),
            options,
            attachment=attachment,
            attachments=attachments,
            origin_message_id=origin_message_id,
        )
        return await self.commands.dispatch(invocation)

    async def _handle(
        self,
        interaction: discord.Interaction,
        work: Callable[[], Awaitable[Reply]],
        *,
        in_place: bool = False,
    ) -> None:
        # The deferral goes first, before any work for this interaction (Discord's 3 s).
        arrived = time.perf_counter()
        async with self.acks.acknowledging():
            if in_place:  # a component's own message is edited (DEFERRED_UPDATE_MESSAGE)
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        if self.on_ack is not None:
            self.on_ack(time.perf_counter() - arrived)
        self.facts.learn(interaction)
        await self.acks.wait_turn()
        try:
            reply = await work()
        except Exception:
            log.exception("discord interaction %s failed", interaction.id)
            reply = Reply(text=APOLOGY)
        if reply.job_id is not None:  # a private way back to the requester, while it lives
            self.poster.requesters.remember(reply.job_id, interaction)
        await self._answer(interaction, reply, in_place=in_place)

    async def _answer(
        self, interaction: discord.Interaction, reply: Reply, *, in_place: bool = False
    ) -> None:
        parts = message_parts(reply)
        if in_place:
            # The price prompt becomes the answer: its buttons and price embed go with it.
            parts.setdefault("view", None)
            parts.setdefault("embed", None)
            await interaction.edit_original_response(**parts)
            return
        if reply.file is not None:  # a CSV export, a chart
            file = await asyncio.to_thread(discord.File, reply.file, reply.file_name)
            parts["attachments"] = [file]
        if reply.ephemeral:
            await interaction.edit_original_response(**parts)
            return
        # Public answers go on the bot token, so they outlive the interaction token.
        channel_id = interaction.channel_id
        assert channel_id is not None
        files = parts.pop("attachments", None)
        channel = self.client.get_partial_messageable(channel_id)
        await channel.send(**parts, **({"file": files[0]} if files else {}))
        await interaction.delete_original_response()

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.NoPrivateMessage):
            text = "Use `/ltx` in a server channel."
        elif isinstance(error, app_commands.TransformerError):
            text = f"The option `{error.value}` could not be read; check it and try again."
        else:
            log.error("discord command failed", exc_info=error)
            text = APOLOGY
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    def _attachment(self, attachment: discord.Attachment) -> Attachment:
        return attachment_of(attachment, self._http_session)

    def _http_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT)
        return self._session


def _guild_ids(raw: str) -> list[int]:
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not all(part.isdigit() for part in ids):
        raise ConfigurationError(
            "setting LTXBOT_DISCORD_GUILD_IDS: give server ids (numbers) separated by commas"
        )
    return [int(part) for part in ids]
