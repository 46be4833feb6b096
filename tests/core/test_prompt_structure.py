"""The prompt generate sends: a composed sheet's sentence before the prompt (shown in the
reply), `raw_prompt` to send it as written, a hint line for an uploaded sheet, a refusal past
the model's 4000 characters; and the final's refusals (not a draft, no video yet, the sheet
removed by retention)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from corekit import ALICE, BOB, png_attachment

from bot.jobs.record import JobState, Result
from bot.media.sheet_files import original_of
from bot.request import MAX_PROMPT_CHARS
from commands.creative import HINT

PREFIX = "Reference sheet: a chef in a white jacket and a bright studio kitchen."
SENT = f"{PREFIX} Generated video: the chef tosses pasta"


def composed():
    """A sheet as `commands.sheet.as_attachment` hands it over: with its sentence."""
    return replace(png_attachment(), prompt_prefix=PREFIX)


async def test_a_composed_sheet_puts_its_sentence_first_and_the_reply_shows_it(kit) -> None:
    reply = await kit.invoke("generate", attachment=composed(), prompt="the chef tosses pasta")
    assert "Held" in reply.text and HINT not in reply.text
    assert ("Prompt sent", SENT) in reply.fields
    (job,) = kit.runner.started
    assert job.request.prompt == SENT


async def test_raw_prompt_sends_it_as_written(kit) -> None:
    reply = await kit.invoke(
        "generate", attachment=composed(), prompt="the chef tosses pasta", raw_prompt=True
    )
    assert "Held" in reply.text and not any(name == "Prompt sent" for name, _ in reply.fields)
    assert kit.runner.started[0].request.prompt == "the chef tosses pasta"


async def test_a_prompt_with_its_own_structure_is_sent_as_written(kit) -> None:
    own = "Reference sheet: a chef. Generated video: he bows"
    await kit.invoke("generate", attachment=composed(), prompt=own)
    assert kit.runner.started[0].request.prompt == own


async def test_an_uploaded_sheet_gets_one_hint_line_and_never_a_block(kit) -> None:
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="the chef bows")
    assert "Held" in reply.text and reply.text.splitlines()[-1] == HINT
    assert kit.runner.started[0].request.prompt == "the chef bows"
    quiet = await kit.invoke(
        "generate", attachment=png_attachment(), prompt="the chef bows", raw_prompt=True
    )
    assert HINT not in quiet.text
    structured = await kit.invoke(
        "generate",
        attachment=png_attachment(),
        prompt="Reference sheet: a chef. Generated video: x",
    )
    assert HINT not in structured.text


async def test_a_prompt_the_sentence_takes_past_the_limit_is_refused(kit) -> None:
    prompt = "a" * (MAX_PROMPT_CHARS - 10)  # fits alone, not after the sheet's sentence
    reply = await kit.invoke("generate", attachment=composed(), prompt=prompt)
    assert reply.refused and "characters over the 4,000 the model takes" in reply.text
    assert f"({len(PREFIX)} characters)" in reply.text
    assert kit.runner.started == [] and await kit.services.ledger.open_holds() == []
    raw = await kit.invoke("generate", attachment=composed(), prompt=prompt, raw_prompt=True)
    assert "Held" in raw.text  # as written it fits


async def test_estimate_prices_a_draft(kit) -> None:
    reply = await kit.invoke("estimate", num_frames=121, draft=True)
    assert reply.data is not None and reply.data["cost_usd"] == "0.101115"
    assert (reply.data["width"], reply.data["height"]) == (768, 448)


async def test_estimate_prices_a_drafts_final(kit) -> None:
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x", draft=True)
    final = await kit.invoke("estimate", final=reply.job_id)  # before the draft is done, too
    assert final.data is not None and final.data["cost_usd"] == "0.4020525"
    sized = await kit.invoke("estimate", final=reply.job_id, resolution="1280x720")
    assert sized.data is not None and sized.data["cost_usd"] == "0.26964"
    plain = await kit.invoke("generate", attachment=png_attachment(), prompt="x")
    refused = await kit.invoke("estimate", final=plain.job_id)
    assert refused.refused and "is not a draft" in refused.text


async def draft_done(kit, **result: object):
    reply = await kit.invoke("generate", attachment=png_attachment(), prompt="x", draft=True)
    held = await kit.services.jobs.get(reply.job_id)
    job = held.advance(JobState.SUBMITTED, kit.clock())
    assert await kit.services.jobs.replace(job)
    if result:
        job = job.advance(JobState.FAILED, kit.clock(), result=Result(**result))
        assert await kit.services.jobs.replace(job)
    return job


async def test_final_refuses_what_is_no_finished_draft(kit) -> None:
    plain = await kit.invoke("generate", attachment=png_attachment(), prompt="x")
    said = await kit.invoke("final", job=plain.job_id)
    assert said.refused and "is not a draft" in said.text
    running = await draft_done(kit)
    said = await kit.invoke("final", job=running.id)
    assert said.refused and "has no video yet (submitted)" in said.text
    stranger = await kit.invoke("final", BOB, job=running.id)
    assert stranger.refused and "Only the person" in stranger.text
    assert len(kit.runner.started) == 2


async def test_final_takes_the_seed_and_a_size_the_user_picks(kit) -> None:
    draft = await draft_done(kit, video_url="https://v3.fal.media/x.mp4", seed=99)
    reply = await kit.invoke("final", job=draft.id, resolution="1280x720")
    assert "Held" in reply.text, reply.text
    final = kit.runner.started[-1]
    assert final.request.seed == 99 and str(final.request.resolution) == "1280x720"
    assert final.final_of == draft.id and final.quoted_megapixels == 112
    shaped = await kit.invoke("final", job=draft.id, resolution="auto")
    assert str(kit.runner.started[-1].request.resolution) == "1536x896"  # the draft's shape
    assert "Held" in shaped.text


async def test_a_final_whose_sheet_retention_removed_says_so(kit) -> None:
    draft = await draft_done(kit, video_url="https://v3.fal.media/x.mp4", seed=5)
    await asyncio.to_thread(original_of(Path(draft.sheet_path)).unlink)  # as retention does
    purged = draft.with_changes(kit.clock(), purged_at=draft.created_at + timedelta(days=30))
    assert await kit.services.jobs.replace(purged)
    said = await kit.invoke("final", ALICE, job=draft.id)
    assert said.refused and "removed from the bot's disk 30 days after the job" in said.text
    assert len(kit.runner.started) == 1
