"""estimate: the exact price of a request, before anything is held."""

from __future__ import annotations

from collections.abc import Mapping

from bot.budget.scope_policy import ScopePolicy
from bot.errors import BudgetExceeded
from bot.model import Invocation, Reply
from bot.money import Money
from bot.pricing import Quote
from bot.request_parsing import parse_request
from commands.channels import with_defaults
from commands.context import Services
from commands.creative import as_draft, split_choices
from commands.data import quote_data, usd
from commands.final import final_request
from commands.generate import price
from commands.jobs import load_job
from commands.render import price_line
from commands.takes import takes_price

ESTIMATE_PROMPT = "estimate"  # a prompt is required by the model, not by a price
FINAL = "final"  # estimate's option: a draft's job id, for the price of its final


def estimate_quote(invocation: Invocation, services: Services, presets: Mapping[str, str]) -> Quote:
    """The price of the request, with the channel's presets for options the user did not set."""
    given = {k: v for k, v in invocation.options.items() if k != FINAL}
    options, choices = split_choices({"prompt": ESTIMATE_PROMPT, **given})
    request = parse_request(with_defaults(options, presets))
    return price(as_draft(request, options) if choices.draft else request, services)


async def estimate(invocation: Invocation, services: Services) -> Reply:
    actor = invocation.actor
    # A price is told in any channel: the channel list is not asked for.
    context = await services.budgets.admission_context(
        actor.scope_key, invocation.place.channel_id, check=False
    )
    final_of = invocation.options.get(FINAL)
    if final_of:  # a draft's final: its request at the final's size, whatever else was given
        draft = await load_job(str(final_of), actor, services, acting=False)
        resolution = invocation.options.get("resolution")
        the_quote = price(final_request(draft, resolution, seeded=False), services)
    else:
        the_quote = estimate_quote(invocation, services, context.defaults)
    takes = 1 if final_of else split_choices(invocation.options)[1].takes
    cost = the_quote.cost * takes  # takes: the exact total, as generate holds it
    remaining = await services.budgets.remaining(
        actor.scope_key, actor.user_id, actor.roles, policy=context.policy
    )
    line = price_line(the_quote)
    fields = [
        ("Price", line if takes == 1 else f"{takes_price(takes, the_quote.cost)} ({line} each)")
    ]
    if remaining is not None:
        fields.append(("Budget left", str(remaining)))
    warnings = await _warnings(invocation, services, cost, remaining, context.policy)
    data = {**quote_data(the_quote), "budget_left_usd": usd(remaining), "warnings": warnings}
    text = f"This video would cost {cost}."
    if takes > 1:
        data |= {
            "takes": takes,
            "take_usd": the_quote.cost.exact_str(),
            "cost_usd": cost.exact_str(),
        }
        text = f"These {takes} takes would cost {cost} ({takes_price(takes, the_quote.cost)})."
    text += "".join(f"\n⚠️ {warning}" for warning in warnings)
    return Reply(text=text, fields=tuple(fields), data=data)


async def _warnings(
    invocation: Invocation,
    services: Services,
    cost: Money,
    remaining: Money | None,
    policy: ScopePolicy,
) -> list[str]:
    """What `generate` would meet at this price: a price is still told (not refused), with
    the refusal it would get. The caps are read again only when the price is above the room."""
    said: list[str] = []
    try:
        services.budgets.check_request_size(cost)
    except BudgetExceeded as too_big:
        said.append(str(too_big))
    if remaining is not None and cost > remaining:
        actor = invocation.actor
        refusal = await services.budgets.room_refusal(
            actor.scope_key, actor.user_id, cost, actor.roles, policy=policy
        )
        said.append(
            refusal
            or f"This is more than the {remaining.room_text()} you have left: it would wait "
            "for an admin's approval."
        )
    return said
