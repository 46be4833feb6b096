"""`admin reconcile` end to end: real jobs through fal_client on the simulated fal, which bills
them and serves its bill on its platform API (/v1); the real aiohttp client reads it back."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
from runnerkit import ALICE, PLACE, RecordingPoster, generate, paid_core, settings_for

from adapters.app.core import build_core
from bot.events import Failed, Succeeded
from bot.fal.simulated import SimulatedFal, SimulatedFalOptions
from bot.fal.simulated.platform_api import api_url
from bot.model import Actor, Invocation, Place, Platform
from bot.pricing import quote

ADMIN = dataclasses.replace(ALICE, is_admin=True)
ASKED = {"num_frames": 121}  # 256x160 x 121 frames: 5 MP, held and billed
FIVE_MP = quote(256, 160, 121).cost
KEY = "admin-secret"


@pytest.fixture
async def fal():
    async with SimulatedFal(generation_seconds=0.1, queue_seconds=0.02, admin_key=KEY) as server:
        yield server


def core_for(tmp_path, fal, poster, **settings):
    return paid_core(tmp_path, fal, poster, fal_admin_key=KEY, fal_api_url=api_url(fal), **settings)


async def delivered(core, poster, **options) -> str:
    job_id = await generate(core, **ASKED, **options)
    assert isinstance(await asyncio.wait_for(poster.ending(job_id), 30), Succeeded)
    await core.supervisor.wait(job_id)
    return job_id


async def reconcile(core, actor=ADMIN, **options):
    invocation = Invocation("admin reconcile", actor, PLACE, options)
    return await core.commands.dispatch(invocation)


async def test_a_delivered_job_matches_and_the_json_has_every_list_and_total(tmp_path, fal):
    poster = RecordingPoster()
    async with core_for(tmp_path, fal, poster) as core:
        job_id = await delivered(core, poster)
        reply = await reconcile(core)  # the terminal prints `data` for its --json
        text = reply.text
    body = json.loads(json.dumps(reply.data))  # JSON as the terminal prints it
    assert [(m["job_id"], m["fal_usd"], m["charged_usd"]) for m in body["matched"]] == [
        (job_id, FIVE_MP.exact_str(), FIVE_MP.exact_str())
    ]
    assert body["billed_not_charged"] == body["charged_not_billed"] == body["mismatches"] == []
    assert body["clean"] is True and body["other_scopes_matched"] == 0
    (day,) = body["days"]
    assert day["fal_usage_usd"] == day["fal_billing_events_usd"] == day["charged_usd"]
    assert body["unit_price"] == {
        "fal_usd": "0.0024075",
        "fal_unit": "megapixels",
        "ours_usd": "0.0024075",
    }
    assert body["totals"]["fal_billed_usd"] == body["totals"]["charged_usd"] == FIVE_MP.exact_str()
    assert all(isinstance(v, str) for v in body["totals"].values())  # decimal strings
    assert "All agree." in text and "Matched: 1." in text


async def test_a_lost_submit_answer_is_billed_by_fal_but_not_charged(tmp_path, fal):
    poster = RecordingPoster()
    async with core_for(tmp_path, fal, poster) as core:
        await delivered(core, poster)  # one that matches
        fal.faults.lose_submit_response = 1  # fal queues it, its answer never comes
        lost_job = await generate(core, **ASKED)
        assert isinstance(await asyncio.wait_for(poster.ending(lost_job), 30), Failed)
        await core.supervisor.wait(lost_job)
        first = (await fal.wait_for_submissions(2))[1]
        await fal.wait_for_completion(first.request_id)  # fal ran it anyway, and billed it
        body = json.loads(json.dumps((await reconcile(core)).data))
        text = (await reconcile(core)).text
    (lost,) = body["billed_not_charged"]
    assert (lost["request_id"], lost["job_id"], lost["charged_usd"]) == (
        first.request_id,
        None,
        None,
    )
    assert lost["fal_usd"] == FIVE_MP.exact_str() and len(body["matched"]) == 1
    assert body["totals"]["billed_not_charged_usd"] == FIVE_MP.exact_str()
    assert body["clean"] is False
    assert "Billed by fal but not charged: 1" in text and first.request_id in text


async def test_fal_billing_above_the_hold_is_an_amount_mismatch(tmp_path, fal):
    fal.faults.billable_units = "7"  # fal bills 7 MP for a job held at 5 MP
    poster = RecordingPoster()
    async with core_for(tmp_path, fal, poster) as core:
        job_id = await delivered(core, poster)
        body = json.loads(json.dumps((await reconcile(core)).data))
    (mismatch,) = body["mismatches"]
    seven = quote(1000, 1000, 7).cost
    assert (mismatch["job_id"], mismatch["fal_usd"], mismatch["charged_usd"]) == (
        job_id,
        seven.exact_str(),
        FIVE_MP.exact_str(),
    )
    assert mismatch["difference_usd"] == (seven - FIVE_MP).exact_str()
    assert "above the hold" in mismatch["why"]
    assert body["matched"] == [] and body["days"][0]["agrees"] is False


async def test_without_an_admin_key_one_sentence_names_the_setting(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(tmp_path, fal, poster) as core:
        reply = await reconcile(core)
    assert reply.refused and "LTXBOT_FAL_ADMIN_KEY" in reply.text and reply.text.count(". ") <= 1


async def test_a_non_admin_is_refused(tmp_path, fal):
    poster = RecordingPoster()
    async with core_for(tmp_path, fal, poster) as core:
        reply = await reconcile(core, actor=ALICE)
    assert "Only an admin" in reply.text


async def test_a_key_fal_does_not_take_is_named_and_a_bad_day_is_explained(tmp_path, fal):
    poster = RecordingPoster()
    async with paid_core(
        tmp_path, fal, poster, fal_admin_key="not-the-admin-key", fal_api_url=api_url(fal)
    ) as core:
        refused = await reconcile(core)
        bad_day = await reconcile(core, since="yesterday")
    assert "refused the admin key (403)" in refused.text and "LTXBOT_FAL_ADMIN_KEY" in refused.text
    assert "YYYY-MM-DD" in bad_day.text


async def test_a_chat_gets_the_json_as_a_file_and_another_teams_job_only_counted(tmp_path, fal):
    guild_admin = Actor(Platform.DISCORD, "guild-1", "u1", "Una", is_admin=True)
    guild = Place(Platform.DISCORD, "guild-1", "channel-1")
    poster = RecordingPoster()
    async with core_for(tmp_path, fal, poster) as core:
        await delivered(core, poster)  # the console team's job
        invocation = Invocation("admin reconcile", guild_admin, guild, {"json": True})
        reply = await core.commands.dispatch(invocation)
        assert reply.file is not None and reply.file.suffix == ".json", reply.text
        body = json.loads(reply.file.read_text())
    assert reply.text.startswith("Ledger beside fal") and "attached" in reply.text
    assert body["matched"] == body["billed_not_charged"] == [] and body["other_scopes_matched"] == 1


async def test_on_the_in_process_simulated_fal_its_bill_shows_nothing_was_charged(tmp_path):
    settings = settings_for(tmp_path, fal_admin_key="any-key-will-do")
    poster = RecordingPoster()
    quick: SimulatedFalOptions = {"generation_seconds": 0.1, "queue_seconds": 0.02}
    async with build_core(settings, poll_interval=0.05, simulated_fal_options=quick) as core:
        assert core.simulated_fal is not None
        core.posters[Platform.CONSOLE] = poster
        job_id = await delivered(core, poster)
        body = json.loads(json.dumps((await reconcile(core)).data))
    (line,) = body["billed_not_charged"]
    assert line["job_id"] == job_id and "simulated: never charged" in line["why"]
