"""`JobStore.forget_user` on SQLAlchemy Core: one user's records scrubbed, their id renamed.

Everything happens in one transaction, under the team's admission lock (`lock_scopes`), so a
hold of that team waits for it and no reader sees the user half renamed. The ledger is
append-only everywhere else; here its `user_id` and `actor` are rewritten (the amounts never
are), which is what keeps budgets and reports adding up after a user is forgotten.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import ConcurrentChange
from bot.jobs.record import Job
from bot.ports import CapKind, Forgetting, Forgotten
from storage.policy_writes import write_audit
from storage.tables import (
    admin_audit,
    admission_balances,
    approval_requests,
    budget_alerts,
    budget_caps,
    channel_access,
    channel_defaults,
    jobs,
    ledger_entries,
    saved_sheets,
    scope_rules,
)
from storage.usage import lock_scopes

CAP_ACTIONS = ("caps set", "caps clear")  # storage.policy's audit actions naming a cap


async def forget_user(engine: AsyncEngine, forgetting: Forgetting) -> Forgotten:
    """See `bot.ports.JobStore.forget_user`."""
    async with engine.begin() as connection:
        await lock_scopes(connection, [forgetting.team])
        found = await _jobs_of(connection, forgetting)
        unfinished = tuple(job.id for job in found if not job.is_final)
        if unfinished:
            return Forgotten(unfinished=unfinished)
        for job in found:
            await _scrub(connection, job, forgetting)
        renamed = await _rename(connection, forgetting)
        if found or renamed:
            await write_audit(
                connection,
                forgetting.team,
                forgetting.by,
                "forget",
                forgetting.detail,
                "",
                forgetting.at,
            )
    return Forgotten(jobs=tuple(found), renamed=renamed)


async def _jobs_of(connection: AsyncConnection, forgetting: Forgetting) -> list[Job]:
    query = select(jobs.c.document).where(
        jobs.c.platform == forgetting.platform.value,
        jobs.c.scope == forgetting.scope,
        jobs.c.user_id == forgetting.user_id,
    )
    documents = (await connection.execute(query.order_by(jobs.c.created_at, jobs.c.id))).scalars()
    return [Job.model_validate_json(document) for document in documents]


async def _scrub(connection: AsyncConnection, job: Job, forgetting: Forgetting) -> None:
    clean = forgetting.scrub(job)
    statement = (
        update(jobs)
        .where(jobs.c.id == job.id, jobs.c.version == job.version)
        .values(
            version=clean.version,
            user_id=clean.origin.user_id,
            updated_at=clean.updated_at,
            purged_at=clean.purged_at,
            document=clean.model_dump_json(),
        )
    )
    if (await connection.execute(statement)).rowcount != 1:
        raise ConcurrentChange(f"job {job.id} changed while its user was being forgotten")


async def _rename(connection: AsyncConnection, forgetting: Forgetting) -> int:
    """Every other row naming the user, in the team: ids replaced, mentions in text too."""
    team, old, new = forgetting.team, forgetting.user_id, forgetting.pseudonym
    renames: list[tuple[Table, str, ColumnElement[bool]]] = [
        (ledger_entries, "user_id", ledger_entries.c.scope == team),
        (ledger_entries, "actor", ledger_entries.c.scope == team),
        (approval_requests, "user_id", approval_requests.c.scope == team),
        (approval_requests, "decided_by", approval_requests.c.scope == team),
        (budget_alerts, "user_id", budget_alerts.c.scope == team),
        (budget_caps, "set_by", budget_caps.c.scope == team),
        (scope_rules, "set_by", scope_rules.c.scope == team),
        (channel_access, "set_by", channel_access.c.scope == team),
        (channel_defaults, "set_by", channel_defaults.c.scope == team),
        (admin_audit, "actor", admin_audit.c.scope == team),
    ]
    user_cap = (budget_caps.c.scope == team) & (budget_caps.c.kind == CapKind.USER.value)
    # A saved sheet stays the team's; who saved it becomes the pseudonym, name and id.
    theirs = (saved_sheets.c.scope == team) & (saved_sheets.c.saved_by == old)
    statement = update(saved_sheets).where(theirs).values(saved_by=new, saved_by_name=new)
    count = int((await connection.execute(statement)).rowcount)
    for table, column, in_team in renames:
        count += await _set(connection, table, column, in_team, old, new)
    count += await _set(connection, budget_caps, "subject", user_cap, old, new)
    # The user's running balances (storage.balances) follow their entries; not counted: they
    # are sums of the entries renamed above, not records of their own.
    balances = admission_balances.c.scope == team
    await _set(connection, admission_balances, "subject", balances, old, new)
    # Mentions (`<@id>`, as every platform renders a user) in the texts admins and the bot wrote.
    for table, column, in_team in [
        (ledger_entries, "note", ledger_entries.c.scope == team),
        (approval_requests, "reason", approval_requests.c.scope == team),
        (admin_audit, "detail", admin_audit.c.scope == team),
        (admin_audit, "reason", admin_audit.c.scope == team),
    ]:
        text = table.c[column]
        statement = (
            update(table)
            .where(in_team, text.contains(f"<@{old}>", autoescape=True))
            .values({column: func.replace(text, f"<@{old}>", f"<@{new}>")})
        )
        count += (await connection.execute(statement)).rowcount
    # A user's cap, as `storage.policy` names it in the audit: "user <id>" or "user <id> = ...".
    detail, named = admin_audit.c.detail, f"user {old}"
    caps_entry = (admin_audit.c.scope == team) & admin_audit.c.action.in_(CAP_ACTIONS)
    statement = (
        update(admin_audit)
        .where(caps_entry, (detail == named) | detail.startswith(f"{named} =", autoescape=True))
        .values(detail=func.replace(detail, named, f"user {new}"))
    )
    count += (await connection.execute(statement)).rowcount
    return count


async def _set(
    connection: AsyncConnection,
    table: Table,
    column: str,
    where: ColumnElement[bool],
    old: str,
    new: str,
) -> int:
    statement = update(table).where(where, table.c[column] == old).values({column: new})
    return int((await connection.execute(statement)).rowcount)
