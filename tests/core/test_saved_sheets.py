"""Saved sheets through the commands: a team saves a sheet under a name, lists it, generates
from it by name (its own hard link, never sanitised again, the composed prompt's structure
kept), and only its saver or an admin replaces or deletes it. One picture is one file, and
retention leaves saved sheets alone."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from corekit import ADMIN, ALICE, BOB, CoreKit, png_attachment

from bot.jobs.record import JobState
from bot.model import Actor, Platform

TINY = {"resolution": "auto", "num_frames": 9}
PREFIX = "Reference sheet: left, a red fox; right, a snowy forest."


def saved_files(kit: CoreKit) -> list[Path]:
    folder = kit.services.settings.data_dir / "saved-sheets"
    return sorted(folder.iterdir()) if folder.exists() else []


def same_file(a: str | Path | None, b: Path) -> bool:
    return a is not None and os.path.samefile(a, b)


def exists(path: str | None) -> bool:
    return path is not None and Path(path).exists()


async def save(kit: CoreKit, name: str, actor: Actor = ALICE, attachment=None, **options):
    return await kit.invoke(
        "sheets", actor, attachment=attachment or png_attachment(), action="save", name=name,
        **options,
    )  # fmt: skip


async def test_saved_sheets_are_listed_and_one_picture_is_one_file(kit):
    assert (await kit.invoke("sheets")).data == ()
    first = await save(kit, "hero")
    assert not first.refused, first.text
    assert "Saved sheet `hero` (1536x896)" in first.text
    again = await save(kit, "hero-2", BOB)  # the same picture under another name
    assert not again.refused
    assert len(saved_files(kit)) == 1
    listed = await kit.invoke("sheets")
    assert [row["name"] for row in listed.data] == ["hero", "hero-2"]
    assert "`hero-2` 1536x896 · saved by Bob" in listed.text
    other_team = Actor(Platform.SLACK, "T1", "carol", "Carol")
    assert (await kit.invoke("sheets", other_team)).data == ()


async def test_bad_names_and_bad_sheets_are_refused_and_nothing_is_kept(kit):
    for bad in ("", "two words", "x" * 41, "émoji"):
        reply = await save(kit, bad)
        assert reply.refused and "letters, digits, - or _" in reply.text, bad
    html = png_attachment()
    broken = type(html)("sheet.png", "image/png", 20, lambda limit: _text(b"<html>no</html>"))
    reply = await save(kit, "hero", attachment=broken)
    assert reply.refused and "PNG" in reply.text
    reply = await kit.invoke("sheets", action="save", name="hero")
    assert reply.refused and "Attach the reference sheet" in reply.text
    assert saved_files(kit) == [] and (await kit.invoke("sheets")).data == ()


async def _text(data: bytes) -> bytes:
    return data


async def test_only_the_saver_or_an_admin_replaces_or_deletes_a_name(kit):
    await save(kit, "hero")
    refused = await save(kit, "hero", BOB, attachment=png_attachment(640, 480))
    assert refused.refused
    assert "already saved here by Alice; only they or an admin can replace it" in refused.text
    assert len(saved_files(kit)) == 1  # Bob's picture was not kept
    replaced = await save(kit, "hero", attachment=png_attachment(640, 480))
    assert replaced.text.startswith("Replaced sheet `hero` (640x480)")
    assert len(saved_files(kit)) == 1  # the old picture went with its last name
    assert (await kit.invoke("sheets", BOB, action="delete", name="hero")).refused
    deleted = await kit.invoke("sheets", ADMIN, action="delete", name="hero")
    assert not deleted.refused and saved_files(kit) == []


async def test_generate_from_a_saved_sheet_links_it_and_keeps_its_prompt_structure(kit):
    await save(kit, "forest", attachment=png_attachment(800, 800), prompt_prefix=PREFIX)
    reply = await kit.invoke("generate", BOB, prompt="the fox runs", sheet_name="forest", **TINY)
    assert reply.job_id, reply.text
    assert ("Prompt sent", f"{PREFIX} Generated video: the fox runs") in reply.fields
    (job,) = kit.runner.started
    assert job.request.prompt == f"{PREFIX} Generated video: the fox runs"
    size = job.request.size()
    assert size.width == size.height  # `auto` follows the saved sheet's aspect (800x800)
    (picture,) = saved_files(kit)
    assert same_file(job.sheet_path, picture)  # a hard link: no second copy, no decode


async def test_an_unknown_name_is_refused_with_the_close_ones_and_nothing_is_held(kit):
    await save(kit, "hero")
    await save(kit, "heroine", attachment=png_attachment(640, 480))
    reply = await kit.invoke("generate", prompt="x", sheet_name="heor", **TINY)
    assert reply.refused
    assert reply.text == "No sheet is saved here as `heor`. Close names: `hero`, `heroine`."
    both = await kit.invoke(
        "generate", prompt="x", sheet_name="hero", attachment=png_attachment(), **TINY
    )
    assert both.refused and "not both" in both.text
    assert kit.runner.started == []
    assert (await kit.invoke("budget")).data["left_usd"] == "1"  # nothing held


async def test_retention_leaves_saved_sheets_alone(kit):
    await save(kit, "hero")
    reply = await kit.invoke("generate", prompt="x", sheet_name="hero", **TINY)
    job = await kit.services.jobs.get(reply.job_id)
    for state in (JobState.SUBMITTED, JobState.FAILED):
        job = job.advance(state, kit.clock())
        assert await kit.services.jobs.replace(job)
    kit.clock.advance(days=400)  # every file on disk is old by then, the saved one too
    purged = await kit.services.retention.purge(older_than_days=30)
    assert purged.jobs == 1 and not exists(job.sheet_path)
    (picture,) = saved_files(kit)
    again = await kit.invoke("generate", prompt="y", sheet_name="hero", **TINY)
    assert again.job_id
    assert same_file((await kit.services.jobs.get(again.job_id)).sheet_path, picture)


async def test_a_delete_racing_a_save_of_the_same_picture_never_loses_the_file(kit):
    for round in range(5):
        await save(kit, f"old{round}")
        await asyncio.gather(
            kit.invoke("sheets", action="delete", name=f"old{round}"),
            save(kit, f"new{round}", BOB),
        )
        assert len(saved_files(kit)) == 1, round
        reply = await kit.invoke("generate", prompt="x", sheet_name=f"new{round}", **TINY)
        assert reply.job_id, reply.text
