"""budget: spent, in flight, remaining and next reset for each cap that applies."""

from __future__ import annotations

from bot.model import JSON, Invocation, JSONObject, Reply
from commands.context import Services
from commands.data import cap_data, usd


async def budget(invocation: Invocation, services: Services) -> Reply:
    actor = invocation.actor
    statuses = await services.budgets.status(actor.scope_key, actor.user_id, actor.roles)
    if not statuses:
        return Reply(text="No budget cap applies to you here.", data={"left_usd": None, "caps": []})
    fields: list[tuple[str, str]] = []
    caps: list[JSON] = []
    for status in statuses:
        usage, reset = status.usage, services.budgets.describe_reset(status.limit)
        caps.append(cap_data(status, reset))
        granted = f" · {usage.granted} granted" if usage.granted else ""
        fields.append(
            (
                status.limit.name[0].upper() + status.limit.name[1:],
                f"{status.remaining.room_text()} left of {status.limit.limit} · "
                f"{usage.spent.used_text()} spent · {usage.held.used_text()} in flight{granted} · "
                f"{reset}",
            )
        )
    tightest = min(statuses, key=lambda status: status.remaining)
    text = f"You have {tightest.remaining.room_text()} left"
    if len(statuses) > 1:
        text += f" (the tightest is {tightest.limit.name})"
    data: JSONObject = {"left_usd": usd(tightest.remaining), "caps": caps}
    return Reply(text=text + ".", fields=tuple(fields), data=data)
