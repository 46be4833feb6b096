"""Channels: the allow/deny list, the admin channel, per-channel defaults for generate and
estimate."""

from __future__ import annotations

import pytest
from policykit import ALICE, PolicyKit

from bot.errors import NotAllowed
from bot.model import Invocation, Place


@pytest.fixture
def kit(any_kit: PolicyKit) -> PolicyKit:
    """Channel lists and defaults are upserts: each test runs on SQLite and PostgreSQL."""
    return any_kit


async def estimate_in(kit: PolicyKit, channel: str, **options: object) -> str:
    place = Place(ALICE.platform, ALICE.scope, channel)
    reply = await kit.commands.dispatch(Invocation("estimate", ALICE, place, options))
    return reply.fields[0][1]


async def test_once_a_channel_is_allowed_generate_elsewhere_is_refused_naming_it(kit):
    assert (await kit.generate(channel="C1")).job_id  # no list: everywhere
    await kit.in_channel("admin channel", "C1", action="allow", channel="<#C2>")
    await kit.in_channel("admin channel", "C1", action="allow", channel="<#C3|videos>")
    refused = await kit.generate(channel="C1")
    assert refused.text == "Videos are not made in this channel. Allowed channels: <#C2>, <#C3>."
    assert refused.job_id is None and len(kit.runner.started) == 1
    assert (await kit.generate(channel="C3")).job_id
    shown = await kit.in_channel("admin channel", "C1")
    assert dict(shown.fields) == {"Allowed": "<#C2>, <#C3>", "Denied": "none",
                                  "Admin channel": "not set"}  # fmt: skip


async def test_deny_turns_one_channel_off_and_clear_takes_it_off_the_list(kit):
    await kit.in_channel("admin channel", "C1", action="deny")  # this channel
    refused = await kit.generate(channel="C1")
    assert refused.text == "An admin turned off making videos in this channel."
    assert (await kit.generate(channel="C2")).job_id
    await kit.in_channel("admin channel", "C7", action="clear", channel="C1")
    assert (await kit.generate(channel="C1")).job_id
    audit = (await kit.admin("audit")).text
    assert "channel set: <#C1> = unlisted" in audit and "channel set: <#C1> = deny" in audit


async def test_the_admin_channel_is_set_shown_and_unset(kit):
    set_here = await kit.in_channel("admin channel", "C9", action="admin")
    assert set_here.text == "Approval requests and the server's pool alerts now go to <#C9>."
    shown = await kit.in_channel("admin channel", "C1")
    assert dict(shown.fields)["Admin channel"] == "<#C9>"
    unset = await kit.in_channel("admin channel", "C1", action="admin", channel="none")
    assert unset.text.startswith("No admin channel now")
    assert "channel admin: admin_channel = default" in (await kit.admin("audit")).text


async def test_bad_channel_names_get_a_sentence(kit):
    reply = await kit.in_channel("admin channel", "C1", action="allow", channel="<@alice>")
    assert reply.text.startswith("Name a channel: a channel mention or its id")


async def test_channel_defaults_apply_where_the_user_did_not_choose(kit):
    plain = await estimate_in(kit, "C1")
    assert plain.startswith("1536x896, 121 frames")
    reply = await kit.in_channel("admin defaults", "C1", resolution="768x448", num_frames=49,
                                 video_quality="low", generate_audio=False)  # fmt: skip
    assert reply.text == ("Updated. Defaults in <#C1>: resolution = 768x448 · num_frames = 49 · "
                          "video_quality = low · generate_audio = false.")  # fmt: skip
    assert (await estimate_in(kit, "C1")).startswith("768x448, 49 frames")
    assert (await estimate_in(kit, "C2")).startswith("1536x896, 121 frames")  # per channel
    assert (await estimate_in(kit, "C1", num_frames=97)).startswith("768x448, 97 frames")
    assert (await estimate_in(kit, "C1", duration=3)).startswith("768x448, 73 frames")
    job_id = (await kit.generate(channel="C1")).job_id
    job = await kit.services.jobs.get(job_id or "")
    assert job is not None
    request = job.request
    assert (request.num_frames, request.video_quality.value, request.generate_audio) == (
        49, "low", False)  # fmt: skip
    assert (request.resolution.width, request.resolution.height) == (768, 448)  # type: ignore[union-attr]


async def test_defaults_are_checked_like_a_request_and_can_be_cleared(kit):
    bad = await kit.in_channel("admin defaults", "C1", num_frames=5000)
    assert "num_frames" in bad.text and "Defaults in" not in bad.text
    await kit.in_channel("admin defaults", "C1", channel="<#C4>", video_quality="medium",
                         num_frames=25)  # fmt: skip
    cleared = await kit.in_channel("admin defaults", "C1", channel="C4", clear="num_frames")
    assert cleared.text == "Updated. Defaults in <#C4>: video_quality = medium."
    gone = await kit.in_channel("admin defaults", "C4", clear="all")
    assert gone.text == "Updated. Defaults in <#C4>: none."
    assert (await kit.in_channel("admin defaults", "C4")).text == "Defaults in <#C4>: none."


async def test_only_admins_change_channels(kit):
    reply = await kit.in_channel("admin channel", "C1", ALICE, action="deny")
    assert reply.text.startswith("Only an admin")
    assert (await kit.generate(channel="C1")).job_id


async def test_an_admission_read_without_the_channel_list_cannot_pass_the_channel_check(kit):
    await kit.in_channel("admin channel", "C1", action="deny")
    budgets = kit.services.budgets
    unchecked = await budgets.admission_context(ALICE.scope_key, "C1", check=False)
    assert unchecked.channel is None
    with pytest.raises(RuntimeError, match="channel list was not read"):
        unchecked.check_channel()
    with pytest.raises(NotAllowed, match="An admin turned off making videos"):
        (await budgets.admission_context(ALICE.scope_key, "C1", presets=False)).check_channel()
