"""`admin forget`: remove a user's sheets, videos and prompts; their amounts stay, renamed.

Two steps, as every platform can show them: without `yes` the admin reads what would go (N
videos, N sheets, N prompts) and that the amounts stay; with `yes` it is done. In a chat an admin
forgets a member of their own team; the terminal (which runs where every team's files are) may
also name any platform's user as `platform:scope:user` (`discord:GUILD:USER`).
"""

from __future__ import annotations

from bot.budget.policy import parse_subject
from bot.errors import UserError
from bot.jobs.forget import Forget, ForgetDone, ForgetPlan, Who
from bot.model import Actor, Invocation, Platform, Reply
from bot.ports import ApprovalState
from commands.admin import require_admin
from commands.context import Services

AMOUNTS_STAY = (
    "The ledger keeps every amount under a pseudonym, so budgets, the team pool and reports "
    "add up the same."
)
# How each platform's admin says `yes` (the console's `--yes` is the spec's boolean as a flag).
SAY_YES = {
    Platform.CONSOLE: "run it again with --yes",
    Platform.DISCORD: "run it again with `yes:True`",
    Platform.SLACK: "run it again with `yes` at the end",
}


def _who(invocation: Invocation) -> Who:
    actor = invocation.actor
    raw = str(invocation.options.get("user") or "").strip()
    if not raw:
        raise UserError("Say whom to forget: `user` takes a mention or an id.")
    if invocation.place.platform is Platform.CONSOLE:
        account = _account(raw)
        if account is not None:
            return account
    return Who(actor.platform, actor.scope, actor.scope_key, parse_subject(raw))


def _account(raw: str) -> Who | None:
    """`platform:scope:user` (Actor.account's form), for the terminal's operator."""
    parts = raw.split(":")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        platform = Platform(parts[0])
    except ValueError:
        return None
    return Who(platform, parts[1], f"{platform.value}:{parts[1]}", parts[2])


def _mention(who: Who, actor: Actor) -> str:
    same_team = (who.platform, who.scope) == (actor.platform, actor.scope)
    return f"<@{who.user_id}>" if same_team else f"{who.user_id} ({who.team})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _preview(plan: ForgetPlan, name: str, platform: Platform) -> Reply:
    data = {
        "forgotten": False,
        "jobs": plan.jobs,
        "videos": plan.videos,
        "sheets": plan.sheets,
        "prompts": plan.prompts,
    }
    what = (
        f"{_plural(plan.videos, 'video')}, {_plural(plan.sheets, 'sheet')} and "
        f"{_plural(plan.prompts, 'prompt')} (of {_plural(plan.jobs, 'job')})"
    )
    text = (
        f"Forgetting {name} removes {what} and replaces their id by a pseudonym everywhere "
        f"(jobs, ledger, approvals, caps, audit log). {AMOUNTS_STAY} This cannot be undone: "
        f"{SAY_YES.get(platform, 'run it again with yes')} to do it."
    )
    return Reply(text=text, data=data)


def _done(done: ForgetDone, name: str) -> Reply:
    data = {
        "forgotten": done.pseudonym is not None,
        "pseudonym": done.pseudonym,
        "jobs": done.jobs,
        "files": done.files,
        "bytes": done.bytes,
        "renamed": done.renamed,
    }
    if done.pseudonym is None:
        return Reply(text=f"Nothing to forget: nothing here names {name}.", data=data)
    text = (
        f"Forgot {name}: {_plural(done.files, 'file')} removed, the prompts of "
        f"{_plural(done.jobs, 'job')} blanked; they are {done.pseudonym} in the ledger and "
        f"the audit log now. {AMOUNTS_STAY}"
    )
    return Reply(text=text, data=data)


async def admin_forget(invocation: Invocation, services: Services) -> Reply:
    """Say what forgetting the user would remove, or (with `yes`) do it."""
    actor = invocation.actor
    require_admin(actor)
    who = _who(invocation)
    name = _mention(who, actor)

    async def withdraw(job_id: str) -> object:
        at = services.clock()
        return await services.budgets.approvals.decide(
            job_id, ApprovalState.WITHDRAWN, by=actor.user_id, at=at
        )

    forget = Forget(
        jobs=services.jobs, retention=services.retention, clock=services.clock, withdraw=withdraw
    )
    if invocation.options.get("yes") is not True:
        plan = await forget.plan(who)
        if plan.running:
            ids = ", ".join(f"`{job_id}`" for job_id in plan.running)
            raise UserError(f"{name} has a job running ({ids}); cancel it or wait, then forget.")
        return _preview(plan, name, invocation.place.platform)
    return _done(await forget.forget(who, by=actor.user_id), name)
