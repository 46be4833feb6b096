"""Admin commands: caps, limits, grants and the audit log (usage and export: admin_reports).

Every handler refuses non-admins first (`Actor.is_admin`, which each adapter works out from
the platform's own notion of an admin). Every change is written with who made it and why.
"""

from __future__ import annotations

from bot.budget.budgets import Budgets
from bot.budget.limits import cap_name
from bot.budget.policy import parse_dollars, parse_period, parse_subject, parse_timezone
from bot.budget.scope_policy import ScopePolicy
from bot.errors import NotAllowed, UserError
from bot.model import JSON, Actor, Invocation, JSONObject, Reply, scope_word_of
from bot.money import Money
from bot.ports import Cap, CapKind, Rule
from commands.context import Services
from commands.data import usd, when

NO_CAP = {"none", "off", "uncapped", "unlimited"}
TARGETS = tuple(kind.value for kind in CapKind)


def not_admin(actor: Actor, what: str = "use the admin commands") -> str:
    """The refusal, in the platform's word for the scope (server, workspace, team)."""
    return f"Only an admin of this {actor.platform.scope_word} can {what}."


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed(not_admin(actor))


def choice(invocation: Invocation, name: str, choices: tuple[str, ...], default: str) -> str:
    """The option's value if it is one of `choices`; otherwise a sentence naming the field and
    its choices (not an apology: the admin mistyped)."""
    value = (_text(invocation, name) or default).lower()
    if value not in choices:
        raise UserError(f"`{name}` must be one of {', '.join(choices)} (got {value!r}).")
    return value


def _text(invocation: Invocation, name: str) -> str | None:
    value = invocation.options.get(name)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _reason(invocation: Invocation) -> str:
    return _text(invocation, "reason") or ""


def _target(invocation: Invocation) -> tuple[CapKind, str]:
    kind = CapKind(choice(invocation, "target", TARGETS, "default"))
    if kind in (CapKind.DEFAULT, CapKind.POOL):
        return kind, ""
    who = _text(invocation, "who")
    if who is None:
        raise UserError(f"Say which {kind.value}: `who` takes a mention or an id.")
    return kind, parse_subject(who)


def _who(kind: CapKind, subject: str, scope_word: str) -> str:
    return {
        CapKind.DEFAULT: "Default per-user cap",
        CapKind.POOL: f"{scope_word.capitalize()} pool",
        CapKind.USER: f"<@{subject}>",
        CapKind.ROLE: f"Role {subject}",
    }[kind]


def _amount(cap: Cap) -> str:
    if cap.amount is None:
        return "uncapped"
    every = {"day": "per day", "week": "per week", "month": "per month", "none": "in total"}
    return f"{cap.amount} {every[cap.period]}"


def _limits_line(policy: ScopePolicy) -> str:
    jobs = policy.max_in_flight if policy.max_in_flight is not None else "no limit"
    rate = policy.per_minute if policy.per_minute is not None else "no limit"
    confirm = f"above {policy.confirm_above}" if policy.confirm_above is not None else "never"
    alert = f"at {policy.alert_percent}%" if policy.alert_percent else "never"
    above = policy.approval_above
    approval = f"above {above}" if above is not None else "when out of budget"
    hours = f"{policy.approval_ttl.total_seconds() / 3600:g} h"
    return (
        f"in flight per user: {jobs} · per minute: {rate} · confirm: {confirm} · "
        f"alert: {alert} · approval: {approval}, expires after {hours} · "
        f"resets at midnight {policy.tz.key} · safety checker: "
        f"{'members may turn it off' if policy.safety_optional else 'always on'}"
    )


async def show_caps(budgets: Budgets, scope: str) -> Reply:
    policy, word = await budgets.scope_policy(scope), scope_word_of(scope)
    fields: list[tuple[str, str]] = []
    caps: list[JSON] = [_cap_data(cap) for cap in policy.caps]
    if not any(cap.kind is CapKind.DEFAULT for cap in policy.caps):
        base = budgets.policy
        caps.insert(0, _cap_data(Cap(CapKind.DEFAULT, "", base.user_cap, base.period)))
        fields.append(
            (
                _who(CapKind.DEFAULT, "", word),
                _amount(Cap(CapKind.DEFAULT, "", base.user_cap, base.period))
                + " (deployment default)",
            )
        )
    for cap in policy.caps:
        by = f" · set by <@{cap.set_by}>" if cap.set_by else ""
        fields.append((_who(cap.kind, cap.subject, word), _amount(cap) + by))
    fields.append(("Limits", _limits_line(policy)))
    return Reply(text="Budget caps here:", fields=tuple(fields), data={"caps": caps})


def _cap_data(cap: Cap) -> JSONObject:
    return {
        "target": cap.kind.value,
        "who": cap.subject or None,
        "amount_usd": usd(cap.amount),
        "period": cap.period,
        "set_by": cap.set_by or None,
    }


async def admin_caps(invocation: Invocation, services: Services) -> Reply:
    """`admin caps show|set|clear`: the caps stored for this scope."""
    actor = invocation.actor
    require_admin(actor)
    admin, scope = services.budgets.admin, actor.scope_key
    action = choice(invocation, "action", ("show", "set", "clear"), "show")
    if action == "show":
        return await show_caps(services.budgets, scope)
    kind, subject = _target(invocation)
    who, now = _who(kind, subject, actor.platform.scope_word), services.clock()
    if action == "clear":
        removed = await admin.clear_cap(
            scope, kind, subject, actor=actor.user_id, reason=_reason(invocation), at=now
        )
        if not removed:
            return Reply(text=f"{who} had no cap set here.", refused=True)
        return Reply(
            text=f"Cleared: {who}.",
            data={"target": kind.value, "who": subject or None, "cleared": True},
        )
    raw = _text(invocation, "amount")
    if raw is None:
        raise UserError("Give an `amount` in dollars (or none for uncapped).")
    amount = None if raw.lower() in NO_CAP else parse_dollars(raw)
    if amount is not None and amount < Money.zero():
        raise UserError(
            f"A cap cannot be negative; `{actor.platform.command('admin grant')}` with a "
            "negative amount takes room away."
        )
    cap = Cap(kind, subject, amount, parse_period(_text(invocation, "period")))
    await admin.set_cap(scope, cap, actor=actor.user_id, reason=_reason(invocation), at=now)
    name = cap_name(kind, subject, cap.period, actor.platform.scope_word)
    return Reply(
        text=f"Set {who}: {_amount(cap)} (shown to users as “{name}”).",
        data=_cap_data(cap),
    )


async def admin_limits(invocation: Invocation, services: Services) -> Reply:
    """`admin limits`: in-flight and per-minute limits, confirmations, alerts, timezone."""
    actor = invocation.actor
    require_admin(actor)
    scope, now = actor.scope_key, services.clock()
    changes: list[tuple[Rule, str | None]] = []
    for rule, option in (
        (Rule.MAX_IN_FLIGHT, "jobs"),
        (Rule.PER_MINUTE, "per_minute"),
        (Rule.ALERT_PERCENT, "alert_percent"),
    ):
        value = invocation.options.get(option)
        if value is not None:
            number = _whole(value, option)
            if number < 0:
                raise UserError(f"`{option}` cannot be negative.")
            changes.append((rule, str(number) if number else "off"))
    for rule, option in (
        (Rule.CONFIRM_ABOVE, "confirm_above"),
        (Rule.APPROVAL_ABOVE, "approval_above"),
    ):
        given = _text(invocation, option)
        if given is not None:
            if given.lower() in NO_CAP | {"never", "0"}:
                changes.append((rule, "off"))
                continue
            threshold = parse_dollars(given, what="threshold")
            if threshold < Money.zero():
                raise UserError(f"`{option}` cannot be negative.")
            changes.append((rule, threshold.exact_str()))
    hours = invocation.options.get("approval_hours")
    if hours is not None:
        number = _whole(hours, "approval_hours")
        if not 1 <= number <= 720:
            raise UserError("`approval_hours` is between 1 and 720.")
        changes.append((Rule.APPROVAL_HOURS, str(number)))
    optional = invocation.options.get("safety_optional")
    if optional is not None:
        changes.append((Rule.SAFETY_OPTIONAL, "on" if _truthy(optional) else "off"))
    zone = _text(invocation, "timezone")
    if zone is not None:
        changes.append((Rule.TIMEZONE, parse_timezone(zone).key))
    await services.budgets.admin.set_rules(
        scope, changes, actor=actor.user_id, reason=_reason(invocation), at=now
    )
    policy = await services.budgets.scope_policy(scope)
    head = "Updated. " if changes else ""
    return Reply(text=f"{head}Limits here: {_limits_line(policy)}.")


def _truthy(value: object) -> bool:
    """A boolean option as any platform sends it (True, "true", "yes", "on", "1")."""
    return value is True or str(value).strip().lower() in {"true", "yes", "on", "1"}


async def admin_grant(invocation: Invocation, services: Services) -> Reply:
    """`admin grant who amount reason`: room for this period, in the ledger and the audit log."""
    actor = invocation.actor
    require_admin(actor)
    scope, now = actor.scope_key, services.clock()
    who = _text(invocation, "who") or ""
    reason = _text(invocation, "reason")
    if reason is None:
        raise UserError("Say why in `reason`: grants are kept with who made them and why.")
    amount = parse_dollars(_text(invocation, "amount") or "", what="amount")
    if not amount:
        raise UserError("A grant of $0 changes nothing.")
    word = actor.platform.scope_word
    pools = ("pool", "team", "the team pool", word, f"the {word} pool", f"the {word}'s pool")
    user_id = None if who.lower() in pools else parse_subject(who)
    await services.budgets.admin.grant(
        scope, user_id, amount, actor=actor.user_id, reason=reason, at=now
    )
    target = f"the {word}'s pool" if user_id is None else f"<@{user_id}>"
    verb = "Granted" if amount > Money.zero() else "Took back"
    shown = amount if amount > Money.zero() else -amount
    return Reply(
        text=f"{verb} {shown} {'to' if verb == 'Granted' else 'from'} {target}: it "
        "counts in every cap whose current period includes now.",
        data={"who": user_id or "pool", "amount_usd": amount.exact_str(), "reason": reason},
    )


async def admin_audit(invocation: Invocation, services: Services) -> Reply:
    """`admin audit`: the latest admin changes, newest first."""
    actor = invocation.actor
    require_admin(actor)
    entries = await services.budgets.admin.audit(actor.scope_key, limit=15)
    if not entries:
        return Reply(text="No admin changes recorded here yet.", data=())
    lines = [
        f"{e.created_at:%Y-%m-%d %H:%M} UTC · <@{e.actor}> · {e.action}: {e.detail}"
        + (f" — “{e.reason}”" if e.reason else "")
        for e in entries
    ]
    data = tuple(
        {
            "at": when(e.created_at),
            "actor": e.actor,
            "action": e.action,
            "detail": e.detail,
            "reason": e.reason or None,
        }
        for e in entries
    )
    return Reply(text="Latest admin changes:\n" + "\n".join(lines), data=data)


def _whole(value: object, name: str) -> int:
    """An option's whole number: Discord sends ints, the terminal and Slack send text."""
    try:
        return int(value) if isinstance(value, int | float) else int(str(value).strip())
    except ValueError:
        raise UserError(f"`{name}` takes a whole number (got {str(value)!r}).") from None
