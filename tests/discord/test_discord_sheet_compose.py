"""`/ltx sheet` on Discord, through discord.py against a fake Discord: three pictures with
labels and kinds come back to the requester alone as one composed PNG with "Generate..." and
"Draft ($0.10)" and "Save..."; each button opens a form whose submit holds a job made from that
sheet with the structured prompt; the form still works after a restart; a bad picture is
refused naming it, with nothing composed or held."""

from __future__ import annotations

from typing import Any

from discordkit import ALICE, CHANNEL, Kit, png

from bot.request import ImageSize
from tests.fakes.discord_api import interactions as ix
from tests.fakes.discord_api import objects as o

EPHEMERAL = 1 << 6
PICTURES = (("chef.png", png(400, 600), "a chef", "character"),
            ("pan.png", png(300, 300), "a copper pan", "prop"),
            ("kitchen.png", png(800, 450), "a bright kitchen", "location"))  # fmt: skip
SENT = (
    "Reference sheet: a chef, a copper pan, and a bright kitchen. "
    "Generated video: the chef tosses pasta"
)
DRAFT_PRICE = 101_115_000  # 121 x 768 x 448 = 42 MP
FULL_PRICE = 402_052_500  # 121 x 1536 x 896 = 167 MP


def sheet_command(kit: Kit, pictures: tuple[tuple[str, bytes, str, str], ...]) -> dict[str, Any]:
    options: dict[str, object] = {}
    files = {}
    for n, (name, data, label, kind) in enumerate(pictures, 1):
        files[f"image{n}"] = kit.sheet(data, name)
        options |= {f"label{n}": label, f"kind{n}": kind}
    data = ix.slash_data("ltx", "sheet", options, attachments=files)
    return kit.fake.interaction(ix.APPLICATION_COMMAND, CHANNEL, ALICE, data)


async def composed(kit: Kit) -> dict[str, Any]:
    """`/ltx sheet` with the three pictures; the message the requester sees."""
    payload = sheet_command(kit, PICTURES)
    kit.deliver(payload)
    text = await kit.answer(payload)
    assert "Reference sheet: a chef, a copper pan, and a bright kitchen." in text
    (deferred,) = kit.fake.callbacks(payload)  # deferred before composing (Discord's 3 s)
    assert deferred.body["type"] == 5 and deferred.body["data"]["flags"] & EPHEMERAL
    (answer,) = [c for c in kit.fake.webhook_calls(payload) if c.method == "PATCH"]
    (upload,) = answer.files
    assert upload.data.startswith(b"\x89PNG") and upload.filename.endswith(".png")
    return answer.body


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["custom_id"] for row in message["components"] for b in row["components"]}


async def submitted(kit: Kit, custom_id: str, adapter: Any = None, **form: str) -> str:
    """Press the button, check a form opens, submit it; the answer the user sees."""
    shown = o.message(o.snowflake(), CHANNEL, kit.fake.bot, components=[
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": custom_id}]}
    ], flags=EPHEMERAL)  # fmt: skip
    press = kit.fake.interaction(ix.MESSAGE_COMPONENT, CHANNEL, ALICE, ix.button_data(custom_id),
                                 message=shown)  # fmt: skip
    kit.deliver(press, adapter)
    (opened,) = await kit.fake.wait_for(lambda: kit.fake.callbacks(press))
    assert opened.body["type"] == 9  # MODAL
    values = form if "name" in form else {"prompt": "the chef tosses pasta", "duration": "",
                                          "seed": "", **form}  # fmt: skip
    modal = ix.modal_data(opened.body["data"]["custom_id"], values)
    submit = kit.fake.interaction(ix.MODAL_SUBMIT, CHANNEL, ALICE, modal)
    kit.deliver(submit, adapter)
    return await kit.answer(submit)


async def test_compose_then_generate_and_draft_from_the_sheet(kit: Kit) -> None:
    message = await composed(kit)
    labels = buttons(message)
    assert list(labels) == ["Generate...", "Draft ($0.10)", "Save..."]
    assert "Held $0.40 " in await submitted(kit, labels["Generate..."], seed="7")
    job = kit.runner.started[-1]
    assert job.request.prompt == SENT and job.request.seed == 7 and not job.draft
    assert job.request.size() == ImageSize(width=1536, height=896)
    assert job.quoted_nanos == FULL_PRICE and job.sheet_path is not None
    assert "Held $0.10 " in await submitted(kit, labels["Draft ($0.10)"])
    draft = kit.runner.started[-1]
    assert draft.draft and draft.request.size() == ImageSize(width=768, height=448)
    assert draft.quoted_nanos == DRAFT_PRICE and draft.request.prompt == SENT
    assert sorted(await kit.services.ledger.open_holds()) == sorted([job.id, draft.id])


async def test_save_keeps_the_composed_sheet_for_the_server_with_its_sentence(kit: Kit) -> None:
    labels = buttons(await composed(kit))
    said = await submitted(kit, labels["Save..."], name="kitchen")
    assert said.startswith("Saved sheet `kitchen` (1536x896)")
    assert "Prompts made with it start: Reference sheet: a chef, a copper pan" in said
    generate = kit.slash("generate", sheet_name="kitchen", prompt="the chef tosses pasta",
                         num_frames=9)  # fmt: skip
    kit.deliver(generate)
    assert "Held" in await kit.answer(generate)
    assert kit.runner.started[-1].request.prompt == SENT


async def test_the_buttons_still_work_after_a_restart(kit: Kit) -> None:
    labels = buttons(await composed(kit))
    await kit.adapter.close()
    async with kit.restarted() as adapter:
        assert "Held" in await submitted(kit, labels["Generate..."], adapter)
    assert kit.runner.started[-1].request.prompt == SENT


async def test_a_bad_picture_is_refused_by_name_and_nothing_is_composed(kit: Kit) -> None:
    bad = (PICTURES[0], ("pan.png", b"not a picture at all", "a pan", "prop"))
    payload = sheet_command(kit, bad)
    kit.deliver(payload)
    assert (await kit.answer(payload)).startswith("Picture 2 (pan.png): ")
    assert not (kit.settings.data_dir / "composed-sheets").exists()
    assert await kit.services.ledger.open_holds() == [] and kit.runner.started == []


async def test_an_unknown_sheet_is_refused_and_nothing_is_held(kit: Kit) -> None:
    gone = f"ltx:sheet_generate:{'0' * 64}"
    assert "no longer kept" in await submitted(kit, gone)
    assert kit.runner.started == []
