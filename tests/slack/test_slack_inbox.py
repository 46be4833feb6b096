"""The inbox of Slack forms on a real database: a stored form is taken in once, by whoever
holds its lease; one whose job is stored already (a crash after the job was recorded) is
discarded, never run again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.inbox import PREFIX, Form, Inbox
from storage import Storage, open_storage


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_storage(f"sqlite:///{tmp_path / 'ltxbot.sqlite3'}")
    try:
        yield opened
    finally:
        await opened.close()


def inbox(storage: Storage, owner: str, stored: set[str]) -> Inbox:
    async def exists(job_id: str) -> bool:
        return job_id in stored

    return Inbox(storage.keyvalue, storage.leases, owner=owner, lease_seconds=30,
                 job_exists=exists)  # fmt: skip


FORM = Form("V1", "T1", "U1", "alice", "C1", None, {"prompt": "a chef", "num_frames": 9}, None)


async def test_a_stored_form_is_taken_in_once_by_whoever_holds_its_lease(storage: Storage):
    ran: list[str] = []
    a, b = inbox(storage, "a", set()), inbox(storage, "b", set())
    await a.keep(FORM)
    [(_, raw)] = await storage.keyvalue.items(prefix=PREFIX)
    assert Form.loads(raw) == FORM
    started, go_on = asyncio.Event(), asyncio.Event()

    async def slow(form: Form) -> None:
        started.set()
        await go_on.wait()
        ran.append(form.view_id)

    taking = asyncio.create_task(a.take_in(FORM, slow))
    await asyncio.wait_for(started.wait(), 5)

    async def fast(form: Form) -> None:
        ran.append("again:" + form.view_id)

    assert await b.take_over(fast) == 0  # a holds the lease
    go_on.set()
    assert await asyncio.wait_for(taking, 5)
    assert await b.take_over(fast) == 0  # a discarded it before letting the lease go
    assert ran == ["V1"] and await storage.keyvalue.items(prefix=PREFIX) == []


async def test_a_form_whose_job_is_stored_is_discarded_not_run_again(storage: Storage):
    async def never(form: Form) -> None:
        raise AssertionError("run twice")

    await inbox(storage, "dead", set()).keep(FORM)
    assert await inbox(storage, "b", {FORM.job_id}).take_over(never) == 1
    assert await storage.keyvalue.items(prefix=PREFIX) == []
