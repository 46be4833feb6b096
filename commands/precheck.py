"""What `generate` would refuse a request for, told before anything is recorded or held.

A form can then show the refusal beside the input it concerns and stay open (Slack's
`response_action: errors`), instead of closing and answering afterwards. Only refusals are
reported: a request that would ask for confirmation or an admin's approval goes on, and
`generate` itself decides again, atomically, when it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.errors import BudgetExceeded, CannotDeliver, UserError
from bot.model import Invocation
from bot.request import AUTO
from bot.request_parsing import parse_request
from commands.channels import with_defaults
from commands.confirm import check_delivery
from commands.context import Services
from commands.creative import as_draft, split_choices
from commands.generate import check_safety_choice, price
from commands.sheets import find_saved


class Concern(StrEnum):
    """What a refusal is about, so a form can show it under the right input."""

    CHANNEL = "channel"  # not allowed here, or the bot cannot post here
    PRICE = "price"  # above the per-request maximum, or more than a cap has left
    OPTIONS = "options"  # the options (with the channel's presets) are not a valid request
    SAVED_SHEET = "saved_sheet"  # no sheet is saved under the name given


@dataclass(frozen=True, slots=True)
class Refusal:
    concern: Concern
    text: str


async def refusal_before_hold(invocation: Invocation, services: Services) -> Refusal | None:
    """The refusal `generate` would give this invocation now, the sheet aside; None when it
    would go on. Reads the scope's policy and the balances once; holds and records nothing."""
    actor, place = invocation.actor, invocation.place
    context = await services.budgets.admission_context(actor.scope_key, place.channel_id)
    try:
        context.check_channel()
    except UserError as problem:
        return Refusal(Concern.CHANNEL, str(problem))
    try:
        options, choices = split_choices(invocation.options)
    except UserError as problem:
        return Refusal(Concern.OPTIONS, str(problem))
    if invocation.options.get("sheet_name"):
        try:
            await find_saved(actor, invocation.options["sheet_name"], services)
        except UserError as problem:
            return Refusal(Concern.SAVED_SHEET, str(problem))
    try:
        request = parse_request(with_defaults(options, context.defaults))
        if choices.draft:
            request = as_draft(request, options)
        check_safety_choice(request, context.policy, actor.platform)
    except UserError as problem:
        return Refusal(Concern.OPTIONS, str(problem))
    try:
        check_delivery(place, request)
    except CannotDeliver as problem:
        return Refusal(Concern.CHANNEL, str(problem))
    if request.resolution == AUTO:  # priced from the sheet's shape, not read yet
        return None
    cost = price(request, services).cost * choices.takes  # the thresholds go by the total
    try:
        services.budgets.check_request_size(cost)
    except BudgetExceeded as problem:
        return Refusal(Concern.PRICE, str(problem))
    above = context.policy.approval_above
    if above is not None and cost > above:
        return None  # offered for an admin's approval (takes as one group), not refused
    refused = await services.budgets.room_refusal(
        actor.scope_key, actor.user_id, cost, actor.roles, policy=context.policy
    )
    return None if refused is None else Refusal(Concern.PRICE, refused)
