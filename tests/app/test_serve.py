"""`ltxbot run` for real: `adapters.app.core.serve` with Discord (REST + gateway) and Slack
(Socket Mode) configured at once, on the simulated fal, in one process with one SQLite ledger."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.app.core import Core, serve
from adapters.slack.modal import generate_modal
from bot.jobs.record import JobState
from bot.model import Platform
from bot.ports import EntryKind
from bot.settings import Settings
from storage import open_storage
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o
from tests.fakes.discord_api.server import FakeDiscord
from tests.fakes.slack_api import FakeSlackAPI

GUILD, CHANNEL = "910000000000000001", "910000000000000002"
ALICE = o.member("810000000000000001", "alice")
BOT_TOKEN, APP_TOKEN, TEAM = "xoxb-serve-token", "xapp-1-A0APP-1-serve", "T0TEAM"
SMALL = {"prompt": "the chef tosses pasta", "resolution": "256x160", "num_frames": 9}
FAST_FAL = {"generation_seconds": 0.1, "queue_seconds": 0.05}


def png(width: int = 384, height: int = 224) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[Core, FakeDiscord, FakeSlackAPI]]:
    """Both fakes, and `serve` running against them until the block ends (then it must
    return)."""
    async with FakeDiscord() as discord, FakeSlackAPI(bot_token=BOT_TOKEN, team_id=TEAM) as slack:
        discord.add_channel(CHANNEL, GUILD)
        slack.add_user("U1", name="Alice")
        slack.app_tokens.add(APP_TOKEN)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, backend="simulated",
            discord_token=discord.token, discord_api_url=discord.api_url,
            discord_guild_ids=GUILD, slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN,
            slack_api_url=slack.api_url, webhook_port=0,
        )  # fmt: skip
        stop = asyncio.Event()
        started: asyncio.Future[Core] = asyncio.get_running_loop().create_future()

        async def on_started(core: Core) -> None:
            started.set_result(core)

        task = asyncio.create_task(serve(settings, stop, poll_interval=0.05,
                                         simulated_fal_options=FAST_FAL,
                                         on_started=on_started))  # fmt: skip
        try:
            await asyncio.wait({started, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # serve ended before starting: show why
            core = started.result()
            await discord.wait_for(discord.gateway.live_sessions)
            await slack.wait_for(lambda: slack.sockets)
            yield core, discord, slack
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 15) is None  # serve returned on `stop`
        assert [s.close_code for s in discord.gateway.sessions] == [1000]
        assert slack.sockets == []  # the Socket Mode connection was closed too


def slack_slash(text: str, response_url: str) -> dict[str, Any]:
    return {"team_id": TEAM, "channel_id": "C1", "user_id": "U1", "user_name": "alice",
            "command": "/ltx", "text": text, "trigger_id": f"trig-{text}",
            "api_app_id": "A0APP", "response_url": response_url}  # fmt: skip


def slack_form(file: dict[str, Any]) -> dict[str, Any]:
    """The form's view_submission, as Slack sends it over Socket Mode."""
    view = {**generate_modal(channel_id="C1", price="$0.05"), "id": "V0SERVE"}
    state = {
        "sheet": {"sheet": {"type": "file_input", "files": [file]}},
        "prompt": {"prompt": {"type": "plain_text_input", "value": SMALL["prompt"]}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C1"}},
        "opt_num_frames": {"num_frames": {"type": "number_input", "value": "9"}},
        "opt_resolution": {"resolution": {"type": "static_select",
                                          "selected_option": {"value": "256x160"}}},
    }  # fmt: skip
    user = {"id": "U1", "username": "alice", "name": "alice", "team_id": TEAM}
    return {"type": "view_submission", "team": {"id": TEAM, "domain": "fake"}, "user": user,
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": "trig-form",
            "view": {**view, "hash": "h1", "team_id": TEAM, "state": {"values": state},
                     "app_id": "A0APP", "bot_id": "B0BOT"},
            "response_urls": [], "is_enterprise_install": False, "enterprise": None}  # fmt: skip


async def discord_answer(discord: FakeDiscord, sub: str, **options: Any) -> str:
    """Push `/ltx <sub>` over the gateway socket; the text of the edited deferred answer."""
    payload = discord.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                  ix.slash_data("ltx", sub, options))  # fmt: skip
    await discord.gateway.dispatch("INTERACTION_CREATE", payload)
    edits = await discord.wait_for(
        lambda: [c for c in discord.webhook_calls(payload) if c.method == "PATCH"]
    )
    return edits[-1].body["content"]


async def discord_generate(discord: FakeDiscord, data: bytes) -> None:
    """Push `/ltx generate` with `data` as the sheet over the gateway socket."""
    sheet = o.attachment(o.snowflake(), "chef.png", len(data),
                         discord.host("chef.png", data, "image/png"), "image/png")  # fmt: skip
    payload = discord.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE,
                                  ix.slash_data("ltx", "generate", SMALL,
                                                attachments={"sheet": sheet}))  # fmt: skip
    await discord.gateway.dispatch("INTERACTION_CREATE", payload)


async def test_serve_answers_discord_and_slack_and_keeps_one_ledger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    async with serving(tmp_path) as (core, discord, slack):
        # Both platforms answer, from the same process.
        assert "$" in await discord_answer(discord, "budget")
        budget = slack_slash("budget", f"{slack.base_url}/response/b1")
        await slack.send_envelope("slash_commands", budget)
        await slack.wait_for(lambda: slack.responses)
        assert "$" in slack.responses[0]["text"]

        # One video from each.
        data = png()
        await discord_generate(discord, data)
        await slack.send_envelope("interactive", slack_form(slack.add_file("chef.png", data)))

        await discord.wait_for(lambda: [c for c in discord.calls if c.files and c.status == 200],
                               timeout=30)  # fmt: skip
        await slack.wait_for(lambda: slack.calls_to("files.completeUploadExternal"), 30)
        [discord_job] = await core.storage.jobs.for_user(
            platform=Platform.DISCORD, scope=GUILD, user_id=ALICE["user"]["id"])  # fmt: skip
        [slack_job] = await core.storage.jobs.for_user(platform=Platform.SLACK, scope=TEAM,
                                                       user_id="U1")  # fmt: skip
        for job in (discord_job, slack_job):
            await asyncio.wait_for(core.supervisor.wait(job.id), 10)

    # serve has stopped: the one SQLite file in data_dir holds both jobs and both holds.
    storage = await open_storage(core.settings.database)
    try:
        for job, scope in ((discord_job, f"discord:{GUILD}"), (slack_job, f"slack:{TEAM}")):
            stored = await storage.jobs.get(job.id)
            assert stored is not None and stored.state is JobState.DELIVERED
            kinds = [e.kind for e in await storage.ledger.entries(scope=scope) if e.ref == job.id]
            # Held at submission; released because the simulated fal charges nothing.
            assert kinds == [EntryKind.HOLD, EntryKind.RELEASE]
        assert await storage.ledger.open_holds() == []
    finally:
        await storage.close()
    uploads = [c for c in discord.calls if c.files and c.status == 200]
    assert uploads[0].files[0].data[4:8] == b"ftyp"  # a real MP4 in Discord
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert slack.files[complete.params["files"][0]["id"]].data[4:8] == b"ftyp"  # and in Slack
    assert [r.getMessage() for r in caplog.records] == []  # and no error on the way


async def test_stopping_serve_hands_the_job_leases_back_at_once(tmp_path: Path) -> None:
    """`stop` is what SIGTERM sets (adapters/console/cli.py): a job mid-render is left at fal
    with its lease ended, so another replica takes it over at its next look."""
    async with serving(tmp_path) as (core, discord, _slack):
        assert core.simulated_fal is not None
        core.simulated_fal.pause()  # the job stays in fal's queue while serve stops
        await discord_generate(discord, png())
        await core.simulated_fal.submissions.wait_for(1, timeout=30)
        [job] = await core.storage.jobs.for_user(
            platform=Platform.DISCORD, scope=GUILD, user_id=ALICE["user"]["id"])  # fmt: skip
        assert list(await core.storage.leases.driven_elsewhere(
            owner="another-replica", platforms=[Platform.DISCORD])) == [job.id]  # fmt: skip
    storage = await open_storage(core.settings.database)
    try:
        assert await storage.leases.driven_elsewhere(
            owner="another-replica", platforms=[Platform.DISCORD]) == {}  # fmt: skip
        assert await storage.leases.lapsed(platforms=[Platform.DISCORD], limit=10) == [job.id]
        assert await storage.leases.claim(job_id=job.id, owner="another-replica", seconds=30)
        stored = await storage.jobs.get(job.id)
        assert stored is not None and stored.state is not JobState.FAILED  # left, not failed
    finally:
        await storage.close()
