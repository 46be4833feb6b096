"""A submitted form is stored before Slack hears its ack, so a replica killed between the ack
and the hold loses nothing: another replica (or this one, restarted) runs it, exactly once.

- *Before the ack*: one small upsert in the shared key-value store (`slack:inbox:VIEW_ID`:
  who, where, the options and the chosen file; never a token). When the database cannot be
  reached the form is not acked: it stays open with "try again in a minute" under the prompt,
  so nothing acked is ever lost.
- *After the ack*: the work claims the entry's lease (`bot.ports.JobLeases`, named
  `slack-form:VIEW_ID`: one conditional statement on the database's clock), runs `generate`
  with a job id derived from the view id, discards the entry (`taken`) and only then tells
  the user, and lets the lease go. A database that went away after the ack leaves the entry
  (nobody is told "try again"), and the form runs when it is back.
- *Takeover*: every replica looks at the stored entries when it starts and every half lease;
  one whose lease is free (its replica died before claiming it, or its lease ran out) is
  claimed and run. The entry is read again after the claim (the owner discards it before it
  lets the lease go), and a job already stored under the derived id means the form was
  taken in: the entry is discarded without running it again. Two runs can never both hold,
  because the second one's job id is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from adapters.slack.keyvalue import KeyValueStore
from adapters.slack.modal import SheetRef
from bot.ports import JobLeases
from commands.context import job_id_for

log = logging.getLogger(__name__)
PREFIX = "slack:inbox:"
KEEP_WAIT_SECONDS = 1.0  # the most the ack waits for the entry to be stored
KEEP_SECONDS = 3600.0  # a form nobody could take in for an hour is given up (logged)


@dataclass(frozen=True, slots=True)
class Form:
    """What the work after a form's ack needs, as stored before the ack."""

    view_id: str
    team_id: str
    user_id: str
    user_name: str
    channel_id: str
    thread_ts: str | None
    options: dict[str, object]
    sheet: SheetRef | None

    @property
    def job_id(self) -> str:
        return job_id_for("slack-form:" + self.view_id)

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str) -> Form:
        data = json.loads(raw)
        sheet = data.pop("sheet", None)
        return cls(**data, sheet=None if sheet is None else SheetRef(**sheet))


Run = Callable[[Form], Awaitable[object]]  # the form's work: generate and tell the user


class Inbox:
    """Stored forms: `keep` before the ack, `take_in` after it, `take_over` for the lost."""

    def __init__(
        self,
        store: KeyValueStore,
        leases: JobLeases | None,
        *,
        owner: str,
        lease_seconds: float,
        job_exists: Callable[[str], Awaitable[bool]],
    ) -> None:
        self.store, self.leases, self.owner = store, leases, owner
        self.lease_seconds = lease_seconds
        self._job_exists = job_exists
        self._forgetting: set[asyncio.Task[None]] = set()

    async def keep(self, form: Form) -> None:
        """Before the ack: raises (StorageUnavailable, TimeoutError) when the entry could not
        be stored within `KEEP_WAIT_SECONDS`."""
        key = PREFIX + form.view_id
        try:
            async with asyncio.timeout(KEEP_WAIT_SECONDS):  # Slack's 3 s include the checks
                await self.store.save(key=key, value=form.dumps(), ttl_seconds=KEEP_SECONDS)
        except Exception:
            # Maybe stored after all: the user is told nothing was done, so take it back.
            task = asyncio.get_running_loop().create_task(self._forget(key))
            self._forgetting.add(task)
            task.add_done_callback(self._forgetting.discard)
            raise

    async def taken(self, form: Form) -> None:
        """The form's command has answered (a job recorded, or a refusal): the entry goes
        before the user is told, so a user told "try again" is never also served later; when
        the entry cannot be removed (the database away) this raises and nobody is told yet:
        the form is run again once the database is back."""
        await self.store.discard(key=PREFIX + form.view_id)

    async def _forget(self, key: str) -> None:
        with contextlib.suppress(Exception):
            await self.store.discard(key=key)

    async def take_in(self, form: Form, run: Run) -> bool:
        """Run the form once, under its lease; False when another run has it or had it."""
        lease = "slack-form:" + form.view_id
        if self.leases is not None and not await self.leases.claim(
            job_id=lease, owner=self.owner, seconds=self.lease_seconds
        ):
            return False
        try:
            if await self.store.load(key=PREFIX + form.view_id) is None:
                return False  # taken in already (its owner discarded it before letting go)
            if await self._job_exists(form.job_id):
                log.info("Slack form %s: its job %s is stored already", form.view_id, form.job_id)
            else:
                await run(form)
            await self.taken(form)
            return True
        finally:
            if self.leases is not None:
                with contextlib.suppress(Exception):  # it runs out by itself otherwise
                    await self.leases.release(job_id=lease, owner=self.owner)

    async def take_over(self, run: Run) -> int:
        """Run every stored form nobody is taking in (their replica died after the ack)."""
        taken = 0
        for _key, raw in await self.store.items(prefix=PREFIX):
            try:
                form = Form.loads(raw)
            except (ValueError, TypeError):
                log.warning("Slack form entry %s is unreadable; dropped", _key)
                await self.store.discard(key=_key)
                continue
            if await self.take_in(form, run):
                log.info("Slack form %s: taken in after its replica stopped", form.view_id)
                taken += 1
        return taken

    async def take_over_forever(self, run: Run) -> None:
        """At start, then every half lease (a schedule, not a wait for an event)."""
        while True:
            try:
                await self.take_over(run)
            except Exception as problem:
                log.warning("Slack forms: takeover pass failed (%s)", type(problem).__name__)
            await asyncio.sleep(self.lease_seconds / 2)
