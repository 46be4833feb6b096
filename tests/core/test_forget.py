"""`admin forget` on a real core: refused while the user's job runs, a job waiting for its price
confirmation is rejected, and the team's spend reads the same before and after."""

from __future__ import annotations

from corekit import ADMIN, ALICE, BOB, CoreKit
from test_retention import ROOT, TERMINAL, move, started

from bot.jobs.record import JobState
from bot.model import Invocation

TEAM = ALICE.scope_key
DONE = (JobState.SUBMITTED, JobState.SUCCEEDED, JobState.DELIVERED)


async def _pool_spent(kit: CoreKit) -> str:
    usage = await kit.services.ledger.usage(scope=TEAM, user_id=None, since=None)
    return str(usage.spent)


async def test_a_running_job_is_refused_with_a_sentence_and_nothing_changes(kit: CoreKit):
    job_id = await started(kit)
    for options in ({}, {"yes": True}):
        reply = await kit.invoke("admin forget", ADMIN, user="<@alice>", **options)
        assert reply.refused and f"`{job_id}`" in reply.text, reply.text
        assert "has a job running" in reply.text and "cancel it or wait" in reply.text
    job = await kit.services.jobs.get(job_id)
    assert job is not None and job.origin.user_id == "alice" and job.request.prompt == "a fox"
    refused = await kit.invoke("admin forget", BOB, user="<@alice>", yes=True)
    assert refused.refused and "Only an admin" in refused.text


async def test_forgetting_keeps_the_teams_spend_and_rejects_a_waiting_confirmation(
    kit: CoreKit,
):
    job_id = await started(kit)
    await move(kit, job_id, *DONE, video=True)
    bob_job = await started(kit, BOB)
    await move(kit, bob_job, *DONE, video=True)
    await kit.services.ledger.capture(
        job_id=job_id, amount=await _held(kit, job_id), at=kit.clock()
    )
    await kit.services.ledger.capture(
        job_id=bob_job, amount=await _held(kit, bob_job), at=kit.clock()
    )
    assert not (await kit.invoke("admin limits", ADMIN, confirm_above="0.0001")).refused
    waiting = await started(kit)  # answers with Confirm / Abort: recorded, nothing held
    assert (await kit.services.jobs.get(waiting)).state is JobState.RECEIVED  # type: ignore[union-attr]
    spent, usage = await _pool_spent(kit), await kit.invoke("admin usage", ADMIN, period="none")
    bob_budget = (await kit.invoke("budget", BOB)).text

    preview = await kit.invoke("admin forget", ADMIN, user="<@alice>")
    assert "removes 1 video, 2 sheets and 2 prompts (of 2 jobs)" in preview.text, preview.text
    done = await kit.invoke("admin forget", ADMIN, user="<@alice>", yes=True)

    assert not done.refused and done.data and done.data["jobs"] == 2, done.text
    pseudonym = str(done.data["pseudonym"])
    assert (await kit.services.jobs.get(waiting)).state is JobState.REJECTED  # type: ignore[union-attr]
    assert await _pool_spent(kit) == spent
    after = await kit.invoke("admin usage", ADMIN, period="none")
    assert after.text.splitlines()[0] == usage.text.splitlines()[0]  # "... $X spent in total."
    assert f"<@{pseudonym}>" in after.text and "<@alice>" not in after.text
    assert (await kit.invoke("budget", BOB)).text == bob_budget
    assert "alice" not in (await kit.invoke("admin audit", ADMIN)).text.replace("<@root>", "")
    history = await kit.invoke("history", ALICE)
    assert job_id not in history.text


async def test_the_terminal_names_any_platforms_user_in_full(kit: CoreKit):
    job_id = await started(kit)
    await move(kit, job_id, *DONE, video=True)
    invocation = Invocation("admin forget", ROOT, TERMINAL, {"user": "discord:G1:alice"})
    preview = await kit.commands.dispatch(invocation)
    assert "Forgetting alice (discord:G1) removes 1 video" in preview.text, preview.text
    invocation.options["yes"] = True
    done = await kit.commands.dispatch(invocation)
    assert done.data and done.data["forgotten"] is True and done.data["jobs"] == 1, done.text


async def _held(kit: CoreKit, job_id: str):
    [entry] = [e for e in await kit.services.ledger.entries(scope=TEAM) if e.ref == job_id]
    return entry.amount
