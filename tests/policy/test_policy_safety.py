"""fal's safety checker stays on unless the scope's admins let members turn it off."""

from __future__ import annotations

from policykit import ALICE, BOB

from bot.ports import EntryKind


async def holds(kit) -> list[str]:
    entries = await kit.services.ledger.entries(scope=ALICE.scope_key)
    return [e.ref for e in entries if e.kind is EntryKind.HOLD]


async def test_turning_the_safety_checker_off_is_refused_until_an_admin_allows_it(kit):
    await kit.admin("caps", action="set", target="default", amount="100")
    refused = await kit.generate(enable_safety_checker=False)
    assert refused.job_id is None and "cannot be turned off here" in refused.text
    assert await holds(kit) == []  # refused before anything was held
    assert (await kit.generate(enable_safety_checker=True)).job_id  # asking for it on is fine

    shown = await kit.admin("limits", safety_optional="true")
    assert "members may turn it off" in shown.text
    allowed = await kit.generate(BOB, enable_safety_checker=False)
    assert allowed.job_id is not None
    assert kit.runner.started[-1].request.enable_safety_checker is False

    await kit.admin("limits", safety_optional=False)
    assert "cannot be turned off" in (await kit.generate(enable_safety_checker=False)).text


async def test_only_admins_decide_it(kit):
    reply = await kit.invoke("admin limits", ALICE, safety_optional=True)
    assert "Only an admin" in reply.text
    assert "cannot be turned off" in (await kit.generate(enable_safety_checker=False)).text
