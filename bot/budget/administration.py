"""What admins change and read for a scope: caps, rules, grants, channels, presets, the audit.

Thin on purpose: each call is one decision an admin command makes, written through the policy
store (every change with its audit entry, in storage's one transaction) or the ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.budget.scope_policy import ScopePolicy
from bot.model import scope_word_of
from bot.money import Money
from bot.ports import AuditEntry, Cap, CapKind, ChannelAccess, Entry, Ledger, PolicyStore, Rule


@dataclass(frozen=True, slots=True)
class ChannelList:
    """The scope's allowed and denied channels (by id), and its admin channel."""

    allowed: tuple[str, ...]
    denied: tuple[str, ...]
    admin_channel: str | None


class Administration:
    """The scope settings admins change, each change audited with who made it and why."""

    def __init__(
        self,
        store: PolicyStore,
        ledger: Ledger,
        scope_policy: Callable[[str], Awaitable[ScopePolicy]],
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._scope_policy = scope_policy

    async def set_cap(self, scope: str, cap: Cap, *, actor: str, reason: str, at: datetime) -> None:
        await self._store.set_cap(scope=scope, cap=cap, actor=actor, reason=reason, at=at)

    async def clear_cap(
        self, scope: str, kind: CapKind, subject: str, *, actor: str, reason: str, at: datetime
    ) -> bool:
        """False when there was no such cap."""
        return await self._store.clear_cap(
            scope=scope, kind=kind, subject=subject, actor=actor, reason=reason, at=at
        )

    async def set_rules(
        self,
        scope: str,
        changes: Iterable[tuple[Rule, str | None]],
        *,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Set (None: remove) each rule in turn, each with its own audit entry."""
        for rule, value in changes:
            await self._store.set_rule(
                scope=scope, rule=rule, value=value, actor=actor, reason=reason, at=at
            )

    async def set_admin_channel(
        self, scope: str, channel_id: str | None, *, actor: str, reason: str, at: datetime
    ) -> None:
        """Where approval requests and pool alerts go (None: nowhere)."""
        await self._store.set_rule(
            scope=scope,
            rule=Rule.ADMIN_CHANNEL,
            value=channel_id,
            actor=actor,
            reason=reason,
            at=at,
            action="channel admin",
        )

    async def grant(
        self,
        scope: str,
        user_id: str | None,
        amount: Money,
        *,
        actor: str,
        reason: str,
        at: datetime,
    ) -> Entry:
        """Room for this period (negative: room taken back) for a user, or the pool (None):
        written in the ledger, then in the audit log with the ledger's reference."""
        entry = await self._ledger.grant(
            scope=scope, user_id=user_id, amount=amount, at=at, actor=actor, note=reason
        )
        target = f"the {scope_word_of(scope)}'s pool" if user_id is None else f"<@{user_id}>"
        await self._store.record(
            scope=scope,
            actor=actor,
            action="grant",
            detail=f"{amount.exact_str()} USD to {target} (ledger {entry.ref})",
            reason=reason,
            at=at,
        )
        return entry

    async def audit(self, scope: str, *, limit: int = 20) -> list[AuditEntry]:
        """The newest changes first."""
        return await self._store.audit(scope=scope, limit=limit)

    async def set_channel_access(
        self,
        scope: str,
        channel_id: str,
        access: ChannelAccess | None,
        *,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Allow or deny a channel, or (None) take it off the list."""
        await self._store.set_channel(
            scope=scope, channel_id=channel_id, access=access, actor=actor, reason=reason, at=at
        )

    async def channel_list(self, scope: str) -> ChannelList:
        channels, policy = await asyncio.gather(
            self._store.channels(scope=scope), self._scope_policy(scope)
        )
        listed = sorted(channels.items())
        return ChannelList(
            allowed=tuple(c for c, access in listed if access is ChannelAccess.ALLOW),
            denied=tuple(c for c, access in listed if access is ChannelAccess.DENY),
            admin_channel=policy.admin_channel,
        )

    async def set_presets(
        self,
        scope: str,
        channel_id: str,
        changes: Mapping[str, str | None],
        *,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None:
        """Preset (None: unset) each option for the channel in turn, each audited."""
        for option, value in changes.items():
            await self._store.set_channel_default(
                scope=scope,
                channel_id=channel_id,
                option=option,
                value=value,
                actor=actor,
                reason=reason,
                at=at,
            )

    async def presets(self, scope: str, channel_id: str) -> dict[str, str]:
        """The options preset for the channel (`DEFAULT_OPTIONS` names, values as typed)."""
        return await self._store.channel_defaults(scope=scope, channel_id=channel_id)
