"""Block Kit buttons on the status message: Cancel, Reroll, Details, and who may press them."""

from __future__ import annotations

from slackkit import SlackKit, block_actions
from test_slack_poster import started_job


def button(action: str, job_id: str) -> dict[str, str]:
    return {"type": "button", "block_id": "ltx_job_buttons", "action_id": f"ltx_job_{action}",
            "value": f"{action}:{job_id}"}  # fmt: skip


async def test_only_the_requester_or_an_admin_may_cancel(kit: SlackKit) -> None:
    job = await started_job(kit)
    url = kit.response_url("press")
    payload = block_actions(button("cancel", job.id), user="U2", response_url=url)
    status, body = await kit.driver.interactive(payload)
    assert status == 200 and body == "" and kit.driver.elapsed[-1] < 3
    await kit.until(lambda: kit.slack.responses)
    refusal = kit.slack.responses[0]
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert "Only the person who started this job" in refusal["text"]
    assert kit.runner.cancelled == []

    await kit.driver.interactive(block_actions(button("cancel", job.id), user="U1",
                                               response_url=url, trigger="t-2"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == 2)
    assert kit.runner.cancelled == [job.id]
    assert f"Cancelled job `{job.id}`" in kit.slack.responses[1]["text"]


async def test_an_admin_may_see_details_and_reroll(kit: SlackKit) -> None:
    job = await started_job(kit)
    url = kit.response_url("admin")
    await kit.driver.interactive(block_actions(button("details", job.id), user="UADMIN",
                                               response_url=url))  # fmt: skip
    await kit.until(lambda: kit.slack.responses)
    details = kit.slack.responses[0]
    assert f"Job `{job.id}`" in details["text"] and "*Quoted:*" in details["text"]
    await kit.driver.interactive(block_actions(button("reroll", job.id), user="UADMIN",
                                               response_url=url, trigger="t-2"))  # fmt: skip
    await kit.until(lambda: len(kit.slack.responses) == 2)
    assert len(kit.runner.started) == 2
    reroll = kit.runner.started[1]
    assert reroll.rerolled_from == job.id and reroll.origin.user_id == "UADMIN"
    assert sorted(await kit.open_holds()) == sorted([job.id, reroll.id])


async def test_a_stranger_cannot_reroll_on_someone_elses_budget(kit: SlackKit) -> None:
    job = await started_job(kit)
    await kit.driver.interactive(block_actions(button("reroll", job.id), user="U2",
                                               response_url=kit.response_url()))  # fmt: skip
    await kit.until(lambda: kit.slack.responses)
    assert "Only the person who started this job" in kit.slack.responses[0]["text"]
    assert len(kit.runner.started) == 1
