"""`JobStore.forget_user` on SQLite and PostgreSQL: one transaction renames a user everywhere,
keeps every amount, and refuses (changing nothing) while one of their jobs has not ended."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import select
from storage_testkit import T0, make_job

from bot.jobs.forget import FORGOTTEN_PROMPT, scrub
from bot.jobs.record import Job, JobState, Result
from bot.model import Platform
from bot.money import Money
from bot.ports import ApprovalRequest, Cap, CapKind, Forgetting, SavedSheet
from storage import Storage
from storage.tables import metadata

TEAM = "discord:guild-1"
NAME = "forgotten-0123456789ab"


def _delivered(job_id: str, user_id: str) -> Job:
    job = make_job(job_id, user_id=user_id)
    for state in (JobState.HELD, JobState.SUBMITTED, JobState.SUCCEEDED):
        job = job.advance(state, T0)
    job = job.with_changes(
        T0,
        sheet_url="https://v3.fal.media/sheet.png",
        result=Result(
            video_url="https://v3.fal.media/x.mp4",
            expanded_prompt="a red fox, cinematic",
            raw={"prompt": "a red fox in the snow"},
        ),
    )
    return job.advance(JobState.DELIVERED, T0)


def _forgetting(user_id: str = "u1") -> Forgetting:
    at = T0 + timedelta(days=1)
    return Forgetting(
        platform=Platform.DISCORD,
        scope="guild-1",
        team=TEAM,
        user_id=user_id,
        pseudonym=NAME,
        by="admin-1",
        detail=f"forgot a user; now {NAME}",
        at=at,
        scrub=partial(scrub, pseudonym=NAME, at=at),
    )


async def _spend(storage: Storage, job: Job, cents: int) -> None:
    await storage.jobs.insert(job)
    amount = Money(cents * 10_000_000)
    at = T0
    await storage.ledger.hold(
        job_id=job.id, scope=TEAM, user_id=job.origin.user_id, amount=amount, limits=[], at=at
    )
    await storage.ledger.capture(job_id=job.id, amount=amount, at=at)


async def _everything(storage: Storage) -> list[str]:
    """Every cell of every table, as text."""
    cells: list[str] = []
    async with storage.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                cells += [str(value) for value in row]
    return cells


async def _document(storage: Storage, job_id: str) -> str:
    job = await storage.jobs.get(job_id)
    assert job is not None
    return job.model_dump_json()


async def _populate(storage: Storage) -> None:
    await _spend(storage, _delivered("j1", "u1"), 30)
    await _spend(storage, _delivered("j2", "u1"), 20)
    await _spend(storage, _delivered("j3", "u2"), 50)
    await storage.ledger.grant(
        scope=TEAM, user_id="u1", amount=Money.usd("2"), at=T0, actor="admin-1", note="for <@u1>"
    )
    await storage.ledger.grant(
        scope=TEAM, user_id=None, amount=Money.usd("5"), at=T0, actor="u1", note="pool"
    )
    policy = storage.policy
    cap = Cap(CapKind.USER, "u1", Money.usd("3"), "day")
    await policy.set_cap(scope=TEAM, cap=cap, actor="admin-1", reason="lead <@u1>", at=T0)
    default = Cap(CapKind.DEFAULT, "", Money.usd("1"), "day")
    await policy.set_cap(scope=TEAM, cap=default, actor="u1", reason="", at=T0)
    await policy.first_alert(scope=TEAM, cap="daily", user_id="u1", period_start=T0, at=T0)
    request = ApprovalRequest(
        job_id="j1",
        scope=TEAM,
        user_id="u1",
        cost=Money.usd("1"),
        reason="<@u1> is over the daily cap",
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
    )
    await policy.approvals.create(request)
    sheet = SavedSheet(TEAM, "kitchen", "ab" * 32, 1536, 896, None, "u1", "u1", T0)
    await storage.saved_sheets.save(sheet=sheet)


async def test_forgetting_renames_the_user_everywhere_and_keeps_every_amount(storage: Storage):
    await _populate(storage)
    pool_before = await storage.ledger.usage(scope=TEAM, user_id=None, since=None)
    user_before = await storage.ledger.usage(scope=TEAM, user_id="u1", since=None)
    other_before = await storage.ledger.usage(scope=TEAM, user_id="u2", since=None)

    done = await storage.jobs.forget_user(_forgetting())

    assert [job.id for job in done.jobs] == ["j1", "j2"] and done.unfinished == ()
    assert done.renamed > 0
    cells = await _everything(storage)
    assert "u1" not in cells and not [c for c in cells if "<@u1>" in c or "user u1" in c]
    assert [c for c in cells if "red fox" in c] == [await _document(storage, "j3")]
    assert await storage.ledger.usage(scope=TEAM, user_id=None, since=None) == pool_before
    assert await storage.ledger.usage(scope=TEAM, user_id=NAME, since=None) == user_before
    assert await storage.ledger.usage(scope=TEAM, user_id="u2", since=None) == other_before
    assert (await storage.ledger.usage(scope=TEAM, user_id="u1", since=None)).used == Money(0)
    forgotten = await storage.jobs.get("j1")
    assert forgotten is not None and forgotten.origin.user_id == NAME
    assert forgotten.request.prompt == FORGOTTEN_PROMPT and forgotten.sheet_url is None
    assert forgotten.result is not None and forgotten.result.raw == {}
    assert forgotten.purged_at is not None and forgotten.state is JobState.DELIVERED
    mine = await storage.jobs.for_user(platform=Platform.DISCORD, scope="guild-1", user_id=NAME)
    assert {job.id for job in mine} == {"j1", "j2"}
    kept = await storage.jobs.get("j3")
    assert kept is not None and kept.request.prompt == "a red fox in the snow"
    caps = {(cap.kind, cap.subject) for cap in await storage.policy.caps(scope=TEAM)}
    assert (CapKind.USER, NAME) in caps
    [kept_sheet] = await storage.saved_sheets.in_scope(scope=TEAM)  # still the team's
    assert (kept_sheet.saved_by, kept_sheet.saved_by_name) == (NAME, NAME)
    newest = (await storage.policy.audit(scope=TEAM, limit=1))[0]
    assert newest.action == "forget" and newest.actor == "admin-1" and NAME in newest.detail


async def test_forgetting_twice_finds_nothing_the_second_time(storage: Storage):
    await _populate(storage)
    await storage.jobs.forget_user(_forgetting())
    cells = await _everything(storage)

    again = await storage.jobs.forget_user(_forgetting())

    assert again.jobs == () and again.renamed == 0
    assert await _everything(storage) == cells  # not even a second audit entry


async def test_a_job_not_ended_refuses_and_changes_nothing(storage: Storage):
    await _populate(storage)
    running = make_job("j4").advance(JobState.HELD, T0)
    await storage.jobs.insert(running)
    cells = await _everything(storage)

    refused = await storage.jobs.forget_user(_forgetting())

    assert refused.unfinished == ("j4",) and refused.jobs == ()
    assert await _everything(storage) == cells
