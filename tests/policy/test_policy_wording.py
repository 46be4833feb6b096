"""Each platform's words: a Discord server, a Slack workspace, the terminal's team, and each
platform's way of typing a command; a bad admin choice names the field and its choices."""

from __future__ import annotations

import pytest
from policykit import ADMIN

from bot.model import Actor, Platform

WORDS = {Platform.DISCORD: "server", Platform.SLACK: "workspace", Platform.CONSOLE: "team"}


def people(platform: Platform) -> tuple[Actor, Actor]:
    scope = {Platform.DISCORD: "G1", Platform.SLACK: "T1", Platform.CONSOLE: "local"}[platform]
    return (
        Actor(platform, scope, "alice", "Alice"),
        Actor(platform, scope, "root", "Root", is_admin=True),
    )


def test_each_platform_has_its_scope_word_and_command_syntax() -> None:
    assert {p: p.scope_word for p in Platform} == WORDS
    assert Platform.DISCORD.command("admin limits", safety_optional=True) == (
        "/ltx-admin limits safety_optional:true"
    )
    assert Platform.DISCORD.command("generate") == "/ltx generate"
    assert Platform.SLACK.command("admin grant", who="pool") == "/ltx admin grant who=pool"
    assert Platform.CONSOLE.command("admin limits", safety_optional=True, jobs=2) == (
        "ltxbot admin limits --safety-optional --jobs 2"
    )


@pytest.mark.parametrize("platform", [Platform.DISCORD, Platform.SLACK])
async def test_admin_texts_use_the_platforms_word(kit, platform: Platform) -> None:
    member, admin = people(platform)
    word = WORDS[platform]
    refused = await kit.invoke("admin caps", member)
    assert refused.text == f"Only an admin of this {word} can use the admin commands."
    await kit.invoke("admin caps", admin, action="set", target="pool", amount="0.01")
    shown = await kit.invoke("admin caps", admin)
    assert dict(shown.fields)[f"{word.capitalize()} pool"].startswith("$0.01 per day")
    over = await kit.generate(member)
    assert f"the {word}'s daily pool" in over.text and over.job_id is None
    granted = await kit.invoke("admin grant", admin, who="pool", amount="1", reason="demo")
    assert f"to the {word}'s pool" in granted.text
    assert f"USD to the {word}'s pool" in (await kit.invoke("admin audit", admin)).text


@pytest.mark.parametrize(
    ("platform", "typed"),
    [
        (Platform.DISCORD, "/ltx-admin limits safety_optional:true"),
        (Platform.SLACK, "/ltx admin limits safety_optional=true"),
        (Platform.CONSOLE, "ltxbot admin limits --safety-optional"),
    ],
)
async def test_the_safety_refusal_says_how_to_allow_it_on_each_platform(
    kit, platform: Platform, typed: str
) -> None:
    member, _ = people(platform)
    refused = await kit.generate(member, enable_safety_checker=False)
    assert f"`{typed}`" in refused.text


BAD_CHOICES = [
    ("admin caps", {"action": "set", "target": "everyone", "amount": "5"},
     "`target` must be one of default, user, role, pool (got 'everyone')."),
    ("admin caps", {"action": "raise"}, "`action` must be one of show, set, clear (got 'raise')."),
    ("admin caps", {"action": "set", "target": "pool", "amount": "5", "period": "year"},
     "The period must be one of day, week, month, none (got 'year')."),
    ("admin limits", {"jobs": "many"}, "`jobs` takes a whole number (got 'many')."),
    ("admin channel", {"action": "ban"},
     "`action` must be one of show, allow, deny, clear, admin (got 'ban')."),
]  # fmt: skip


@pytest.mark.parametrize(("command", "options", "expected"), BAD_CHOICES)
async def test_a_bad_admin_choice_names_the_field_and_its_choices(
    kit, command: str, options: dict[str, object], expected: str
) -> None:
    reply = await kit.invoke(command, ADMIN, **options)
    assert reply.text == expected and reply.refused
