"""The work after a form's ack, from its stored `Form`: the same whether this replica acked it
or took it over from one that died (`adapters.slack.inbox`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbox import Form, Inbox
from adapters.slack.keyvalue import KeyValueStore
from adapters.slack.runtime import Runtime
from bot.errors import DATABASE_AWAY
from bot.ports import JobLeases
from bot.settings import Settings
from commands import Commands

log = logging.getLogger(__name__)


async def accept(rt: Runtime, ack: AsyncAck, form: Form, *, block: str) -> bool:
    """Store the form, then ack it (True); when it cannot be stored, answer "try again in a
    minute" under `block` instead, so the form stays open and nothing acked is lost."""
    try:
        if rt.inbox is not None:
            await rt.inbox.keep(form)
    except Exception as problem:
        log.warning("could not store a submitted form (%s)", type(problem).__name__)
        await ack(response_action="errors", errors={block: DATABASE_AWAY})
        return False
    await ack()
    return True


def take_in_later(
    rt: Runtime, client: AsyncWebClient, context: AsyncBoltContext, form: Form, token: str
) -> None:
    """After the ack, in a kept task: the form taken in once, under its lease."""

    async def work() -> None:
        # A form is submitted once, however many deliveries carry it.
        if not await rt.first(context) or not await rt.once("view:" + form.view_id):
            return
        if rt.inbox is None:
            await run_form(rt, client, form, token)
        else:
            await rt.inbox.take_in(form, lambda f: run_form(rt, client, f, token))

    rt.tasks.spawn(work(), name="slack-generate")


async def run_form(rt: Runtime, client: AsyncWebClient, form: Form, token: str) -> None:
    """Generate the form's video (its job id derived from the view id) and tell the user."""
    place = await rt.place(client, form.team_id, form.channel_id, form.thread_ts)
    reply = await rt.generate(
        client,
        team_id=form.team_id,
        user_id=form.user_id,
        user_name=form.user_name,
        place=place,
        options=dict(form.options),
        sheet=form.sheet,
        token=token,
        job_id=form.job_id,
    )
    if rt.inbox is not None:
        await rt.inbox.taken(form)
    await rt.tell(client, form.user_id, place, reply)


def inbox_for(
    settings: Settings, commands: Commands, store: KeyValueStore, leases: JobLeases | None
) -> Inbox:
    """The adapter's inbox of forms: leases on the shared database when `serve` gives them."""

    async def job_exists(job_id: str) -> bool:
        return await commands.services.jobs.get(job_id) is not None

    return Inbox(
        store,
        leases,
        owner=settings.new_owner_id(),
        lease_seconds=settings.job_lease_seconds,
        job_exists=job_exists,
    )


def take_over_forms(
    rt: Runtime, make_client: Callable[[str], AsyncWebClient]
) -> asyncio.Task[None]:
    """A kept task running stored forms that their replica acked but never took in."""
    assert rt.inbox is not None

    async def run(form: Form) -> None:
        token = await rt.poster.tokens.bot_token(form.team_id)
        await run_form(rt, make_client(token), form, token)

    return asyncio.get_running_loop().create_task(
        rt.inbox.take_over_forever(run), name="slack-form-takeover"
    )
