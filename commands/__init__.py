"""Platform-neutral commands: options in, core calls, a neutral Reply out.

`Commands.dispatch` is what every adapter calls; a UserError becomes an ephemeral Reply with
its sentence, anything else an apology (the details go to the log, never to the user); a
database that cannot be reached says so ("try again in a minute"), not sorry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeAlias

from bot.errors import StorageUnavailable, UserError
from bot.model import Actor, ButtonAction, Invocation, Place, Reply
from commands.admin import admin_audit, admin_caps, admin_grant, admin_limits
from commands.admin_forget import admin_forget
from commands.admin_purge import admin_purge
from commands.admin_reconcile import admin_reconcile
from commands.admin_reports import admin_export, admin_usage
from commands.admin_spec import ADMIN_COMMANDS
from commands.approvals import admin_approvals, approve, ask_approval, deny
from commands.budget import budget
from commands.channels import admin_channel, admin_defaults
from commands.chat_sheet import sheet as compose_in_chat
from commands.confirm import abort_job, confirm_job
from commands.context import Services
from commands.estimate import estimate
from commands.final import final, make_final
from commands.generate import generate, reroll
from commands.job_details import job_details
from commands.jobs import cancel, cancel_button, history, load_job, show
from commands.precheck import Refusal, refusal_before_hold
from commands.sheets import sheets
from commands.spec import COMMANDS

log = logging.getLogger(__name__)
SHEET_FORMS = (ButtonAction.SHEET_GENERATE, ButtonAction.SHEET_DRAFT, ButtonAction.SHEET_SAVE)
APPROVAL_BUTTONS = {
    ButtonAction.REQUEST_APPROVAL: ask_approval,
    ButtonAction.APPROVE: approve,
    ButtonAction.DENY: deny,
}
# Any, Any: the yield and send types of an `async def`'s coroutine, as typing leaves them open.
Work: TypeAlias = Coroutine[Any, Any, Reply]
Handler = Callable[[Invocation, Services], Work]

HANDLERS: dict[str, Handler] = {
    "generate": generate,
    "estimate": estimate,
    "budget": budget,
    "history": history,
    "show": show,
    "cancel": cancel,
    "final": final,
    "sheets": sheets,
    "sheet": compose_in_chat,
}
assert set(HANDLERS) == set(COMMANDS), "every command in the spec has a handler"
# Apart from HANDLERS, as ADMIN_COMMANDS is apart from COMMANDS (see commands.spec).
ADMIN_HANDLERS: dict[str, Handler] = {
    "admin caps": admin_caps,
    "admin limits": admin_limits,
    "admin grant": admin_grant,
    "admin usage": admin_usage,
    "admin export": admin_export,
    "admin audit": admin_audit,
    "admin approvals": admin_approvals,
    "admin channel": admin_channel,
    "admin defaults": admin_defaults,
    "admin reconcile": admin_reconcile,
    "admin purge": admin_purge,
    "admin forget": admin_forget,
}
assert set(ADMIN_HANDLERS) == set(ADMIN_COMMANDS), "every admin command has a handler"


# No gate on whole commands: every command is admitted at once, as it arrives. What is cheap
# (parse, price, the coalesced policy read, the hold, which storage group-commits) runs for all
# of them together, so a burst's first answers and fal submits are not queued behind others'
# turns; what is expensive or large has a small gate of its own (`bot.media.sheet_files`:
# attachments read a few at a time in arrival order, sheets cleaned once per content in the
# decode pool, uploads bounded), so a command waiting there holds no sheet bytes.
RESTARTING = "The bot is restarting, so nothing was done. Please try again in a moment."


class Commands:
    def __init__(self, services: Services):
        self.services = services
        self.stopping = False  # see stop_taking

    def stop_taking(self) -> None:
        """The replica is stopping (SIGTERM): every command and button from now on is answered
        `RESTARTING`, holding nothing; the ones under way finish."""
        self.stopping = True

    async def dispatch(self, invocation: Invocation) -> Reply:
        if self.stopping:
            return Reply(text=RESTARTING, refused=True)
        handler = HANDLERS.get(invocation.command) or ADMIN_HANDLERS.get(invocation.command)
        if handler is None:
            return Reply(text=f"Unknown command `{invocation.command}`.", refused=True)
        return await self._guard(invocation.command, handler(invocation, self.services))

    async def refusal_before_hold(self, invocation: Invocation) -> Refusal | None:
        """What `generate` would refuse this for (the sheet aside), holding nothing. Not queued
        behind other commands: a form waits for it before its ack."""
        return await refusal_before_hold(invocation, self.services)

    async def sheet_names(self, actor: Actor) -> list[str]:
        """The names of the actor's scope's saved sheets (autocomplete: not queued)."""
        return [s.name for s in await self.services.saved_sheets.in_scope(scope=actor.scope_key)]

    async def press(self, action: ButtonAction, job_id: str, actor: Actor, place: Place) -> Reply:
        """A button on a status or result message (works after restarts: all state is stored)."""
        if self.stopping:
            return Reply(text=RESTARTING, refused=True)
        return await self._guard(action.value, self._press(action, job_id, actor, place))

    async def _press(self, action: ButtonAction, job_id: str, actor: Actor, place: Place) -> Reply:
        if action is ButtonAction.CANCEL:
            return await cancel_button(job_id, actor, self.services)
        if action is ButtonAction.CONFIRM:
            return await confirm_job(job_id, actor, place, self.services)
        if action is ButtonAction.ABORT:
            return await abort_job(job_id, actor, self.services)
        if action in SHEET_FORMS:
            # The adapters open the prompt form for these; a press that gets here is stale.
            return Reply(text="Press the button again to open its form.", refused=True)
        if action in APPROVAL_BUTTONS:
            return await APPROVAL_BUTTONS[action](job_id, actor, place, self.services)
        acting = action in (ButtonAction.REROLL, ButtonAction.FINAL)
        job = await load_job(job_id, actor, self.services, acting=acting)
        if action is ButtonAction.REROLL:
            return await reroll(job, actor, place, self.services)
        if action is ButtonAction.FINAL:
            return await make_final(job, actor, place, self.services)
        return job_details(job)

    async def _guard(self, name: str, work: Work) -> Reply:
        try:
            return await work
        except StorageUnavailable as away:  # the user's sentence, and a line for the operator
            log.warning("command %s: the database is unreachable (%s)", name, away.detail)
            return Reply(text=str(away), refused=True)
        except UserError as problem:
            return Reply(text=str(problem), refused=True)
        except Exception:
            log.exception("command %s failed", name)
            return Reply(
                text="Sorry, something went wrong on our side; nothing was charged.", refused=True
            )
