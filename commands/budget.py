"""budget: spent, in flight, remaining and next reset for each cap that applies."""

from __future__ import annotations

from bot.model import Invocation, Reply
from commands.context import Services


async def budget(invocation: Invocation, services: Services) -> Reply:
    actor = invocation.actor
    statuses = await services.budgets.status(actor.scope_key, actor.user_id)
    if not statuses:
        return Reply(text="No budget cap applies to you here.")
    fields = tuple(
        (
            status.limit.name.capitalize(),
            f"{status.remaining} left of {status.limit.limit} · {status.usage.spent} spent · "
            f"{status.usage.held} in flight · {services.budgets.describe_reset(status.limit)}",
        )
        for status in statuses
    )
    tightest = min(status.remaining for status in statuses)
    return Reply(text=f"You have {tightest} left.", fields=fields)
