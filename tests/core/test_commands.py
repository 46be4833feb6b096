"""The neutral commands, with real SQLite storage and a recording runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from corekit import ADMIN, ALICE, BOB, png_attachment

from bot.jobs.record import JobState
from bot.media import sheet_files
from bot.media.sheet_files import original_of
from bot.model import Attachment, ButtonAction, Invocation, Place
from commands import Commands


async def test_generate_validates_prices_holds_and_starts(kit):
    reply = await kit.invoke(
        "generate", attachment=png_attachment(), prompt="the chef tosses pasta"
    )
    assert reply.job_id and reply.ephemeral
    assert "Held $0.40" in reply.text
    job = await kit.services.jobs.get(reply.job_id)
    assert job.state is JobState.HELD
    assert job.quoted_megapixels == 167 and job.quoted_nanos == 402_052_500
    assert job.request.resolution.width == 1536
    assert kit.runner.started == [job]
    assert await kit.services.ledger.open_holds() == [job.id]


async def test_bad_options_are_refused_before_anything_is_held(kit):
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x", num_frames=999)
    assert "num_frames = 999 is out of range: allowed 9 to 481" in reply.text
    assert reply.job_id is None
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []


async def test_a_missing_or_broken_sheet_is_refused_and_never_charged(kit):
    reply = await kit.invoke("generate", prompt="x")
    assert "Attach a reference sheet" in reply.text

    async def read(limit: int) -> bytes:
        return b"<!DOCTYPE html><html>login</html>"

    html = Attachment("sheet.png", "image/png", 33, read)
    reply = await kit.invoke("generate", attachment=html, prompt="x")
    assert "not an image" in reply.text.lower() or "html" in reply.text.lower()
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []


async def test_a_request_over_the_cap_is_rejected_with_the_cap_and_its_reset(kit):
    first = await kit.invoke("generate", attachment=png_attachment(), prompt="one")
    second = await kit.invoke("generate", attachment=png_attachment(), prompt="two")
    third = await kit.invoke("generate", attachment=png_attachment(), prompt="three")
    assert first.job_id and second.job_id
    assert third.job_id is None
    assert "your daily cap has $0.19 left" in third.text
    assert "resets tomorrow 00:00 UTC (in 12 h 0 min)" in third.text
    assert len(kit.runner.started) == 2
    history = await kit.invoke("history")
    assert "rejected" in history.text


async def test_a_single_request_above_the_maximum_is_refused(kit):
    reply = await kit.invoke("estimate", num_frames=481, resolution="2560x2560")
    assert "$7.59" in reply.text  # estimate still answers...
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x",
                             num_frames=481, resolution="2560x2560")  # fmt: skip
    assert "above the $5.00 limit for one video" in reply.text  # ...generate refuses
    assert await kit.services.ledger.open_holds() == []


async def test_concurrent_generates_never_overspend_the_cap(kit):
    replies = await asyncio.gather(
        *(kit.invoke("generate", attachment=png_attachment(), prompt=f"n{i}") for i in range(12))
    )
    admitted = [r for r in replies if r.job_id]
    assert len(admitted) == 2  # $1.00 cap, $0.40 each


async def test_estimate_and_budget(kit):
    reply = await kit.invoke("estimate", num_frames=121, resolution="1280x720")
    assert reply.text == "This video would cost $0.27."
    assert (
        "Price",
        "1280x720, 121 frames = 112 MP x $0.0024075/MP = $0.27 (exactly $0.26964)",
    ) in (reply.fields)
    await kit.invoke("generate", attachment=png_attachment(), prompt="x", resolution="1280x720")
    reply = await kit.invoke("budget")
    assert reply.text == "You have $0.73 left."
    assert "$0.27 in flight" in reply.fields[0][1]


async def test_only_the_requester_or_an_admin_may_cancel_or_reroll(kit):
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x")
    job_id = reply.job_id
    place = Place(BOB.platform, BOB.scope, "C1")
    refused = await kit.commands.press(ButtonAction.CANCEL, job_id, BOB, place)
    assert "Only the person who started this job" in refused.text
    refused = await kit.commands.press(ButtonAction.REROLL, job_id, BOB, place)
    assert "Only the person who started this job" in refused.text
    details = await kit.commands.press(ButtonAction.DETAILS, job_id, BOB, place)
    assert details.text == f"Job `{job_id}`"
    done = await kit.commands.press(ButtonAction.CANCEL, job_id, ADMIN, place)
    assert done.text.startswith(f"Cancelled job `{job_id}`")
    assert kit.runner.cancelled == [job_id]


async def test_reroll_is_the_same_request_with_a_new_seed_held_again(kit):
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x", seed=42)
    place = Place(ALICE.platform, ALICE.scope, "C1")
    again = await kit.commands.press(ButtonAction.REROLL, reply.job_id, ALICE, place)
    assert again.job_id and again.job_id != reply.job_id
    first = await kit.services.jobs.get(reply.job_id)
    second = await kit.services.jobs.get(again.job_id)
    assert second.request.seed is None and second.request.prompt == first.request.prompt
    assert second.rerolled_from == first.id and second.sheet_path != first.sheet_path
    mine, theirs = Path(second.sheet_path), Path(first.sheet_path)
    pairs = [(mine, theirs), (original_of(mine), original_of(theirs))]
    assert any(a.exists() and a.samefile(b) for a, b in pairs)  # its own link to the sheet
    assert len(await kit.services.ledger.open_holds()) == 2


async def test_jobs_are_invisible_from_another_scope(kit):
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x")
    other = ALICE.__class__(ALICE.platform, "G2", "alice")
    shown = await kit.invoke("show", actor=other, job=reply.job_id)
    assert "No job" in shown.text


def gated_sheets(names: str) -> tuple[dict[str, Attachment], list[str], dict[str, asyncio.Event]]:
    """Attachments whose download waits for its `go` event; `started` lists the reads begun."""
    sheet = png_attachment()
    started: list[str] = []
    go = {name: asyncio.Event() for name in names}

    def gated(name: str) -> Attachment:
        async def read(limit: int) -> bytes:
            started.append(name)
            await go[name].wait()
            return await sheet.read(limit)

        return Attachment("sheet.png", "image/png", sheet.size, read)

    return {name: gated(name) for name in names}, started, go


def generating(commands: Commands, name: str, attachment: Attachment) -> asyncio.Task:
    invocation = Invocation("generate", ALICE, Place(ALICE.platform, ALICE.scope, "C1"),
                            {"prompt": name, "num_frames": 25}, attachment=attachment)  # fmt: skip
    return asyncio.ensure_future(commands.dispatch(invocation))


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition` holds (5 s at most): turns of the loop, no time
    passes; what it waits for (a command queued at a gate) has no event of its own."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)


async def test_a_burst_reads_its_sheets_in_arrival_order_and_the_waiting_hold_no_bytes(
    kit, monkeypatch
):
    # No gate on whole commands: the sheet downloads have their own small one (FIFO), so a
    # burst's sheets are fetched in the order the commands came, and a command waiting for
    # its turn there has read nothing (its memory is the command's, not the sheet's).
    monkeypatch.setattr(sheet_files, "DOWNLOADS_AT_ONCE", 1)
    commands = Commands(kit.services)
    sheets, started, go = gated_sheets("abc")
    tasks = {}
    for name in "abc":  # each arrives once the one before is reading or queued
        tasks[name] = generating(commands, name, sheets[name])
        await until(lambda: len(started) + sheet_files.downloads_waiting() == len(tasks))
    assert started == ["a"] and sheet_files.downloads_waiting() == 2
    for name in "abc":
        await until(lambda name=name: started[-1:] == [name])
        go[name].set()
        assert (await asyncio.wait_for(tasks[name], 5)).job_id
    assert started == ["a", "b", "c"] and sheet_files.downloads_waiting() == 0


async def test_a_command_is_not_queued_behind_another_commands_sheet(kit):
    commands = Commands(kit.services)
    sheets, started, go = gated_sheets("a")
    stuck = generating(commands, "a", sheets["a"])
    await until(lambda: bool(started))
    place = Place(ALICE.platform, ALICE.scope, "C1")
    budget = await asyncio.wait_for(commands.dispatch(Invocation("budget", ALICE, place, {})), 5)
    assert not budget.refused and not stuck.done()
    go["a"].set()
    assert (await asyncio.wait_for(stuck, 5)).job_id
