"""Interaction payloads shaped like Discord's documented INTERACTION_CREATE bodies.

APPLICATION_COMMAND (type 2, slash commands with `data.resolved.attachments`, and message
context menus with `data.resolved.messages`), MESSAGE_COMPONENT (type 3) and MODAL_SUBMIT
(type 5). Plain dicts; nothing from the project is imported.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.discord_api.objects import snowflake

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Application command option types.
SUB_COMMAND = 1
STRING = 3
INTEGER = 4
BOOLEAN = 5
NUMBER = 10
ATTACHMENT = 11

CHAT_INPUT = 1
MESSAGE_COMMAND = 3
BUTTON = 2
TEXT_INPUT = 4
LABEL = 18


def _option_type(value: object) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    return STRING


def base(
    kind: int,
    *,
    application_id: str,
    guild_id: str,
    channel: dict[str, Any],
    member: dict[str, Any],
    app_permissions: int,
    attachment_size_limit: int = 10 * 1024 * 1024,
) -> dict[str, Any]:
    """The fields every guild interaction carries."""
    return {
        "id": snowflake(),
        "application_id": application_id,
        "type": kind,
        "token": "itoken-" + snowflake(),
        "version": 1,
        "guild_id": guild_id,
        "guild": {"id": guild_id, "locale": "en-US", "features": []},
        "channel_id": channel["id"],
        "channel": channel,
        "member": member,
        "app_permissions": str(app_permissions),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": attachment_size_limit,
    }


def slash_data(
    group: str,
    sub: str,
    options: dict[str, object],
    *,
    attachments: dict[str, dict[str, Any]] | None = None,
    guild_id: str | None = None,
    focused: str | None = None,
) -> dict[str, Any]:
    """`data` of `/group sub name:value ...`; attachment options name an id in `resolved`;
    `focused`: the option being typed (an AUTOCOMPLETE interaction's)."""
    inner: list[dict[str, Any]] = [
        {"name": name, "type": _option_type(value), "value": value}
        | ({"focused": True} if name == focused else {})
        for name, value in options.items()
    ]
    for name, attachment in (attachments or {}).items():
        inner.append({"name": name, "type": ATTACHMENT, "value": attachment["id"]})
    data: dict[str, Any] = {
        "id": snowflake(),
        "name": group,
        "type": CHAT_INPUT,
        "options": [{"name": sub, "type": SUB_COMMAND, "options": inner}],
    }
    if guild_id is not None:
        data["guild_id"] = guild_id
    if attachments:
        data["resolved"] = {"attachments": {a["id"]: a for a in attachments.values()}}
    return data


def message_command_data(name: str, target: dict[str, Any]) -> dict[str, Any]:
    """`data` of a message context menu command on `target`."""
    return {
        "id": snowflake(),
        "name": name,
        "type": MESSAGE_COMMAND,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }


def button_data(custom_id: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "component_type": BUTTON}


def modal_data(custom_id: str, values: dict[str, str]) -> dict[str, Any]:
    """`data` of a submitted modal whose text inputs sit in Label components."""
    return {
        "custom_id": custom_id,
        "components": [
            {
                "type": LABEL,
                "id": index,
                "component": {
                    "type": TEXT_INPUT,
                    "id": index + 100,
                    "custom_id": key,
                    "value": value,
                },
            }
            for index, (key, value) in enumerate(values.items(), start=1)
        ],
    }
