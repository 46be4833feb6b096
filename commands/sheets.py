"""`sheets`: a team's reference sheets saved under a name, listed, saved, deleted; and the
look-up `generate` does for `sheet_name` (`--saved` on the terminal).

Names are per scope (a Discord server, a Slack workspace, the terminal): 1 to 40 letters,
digits, `-` and `_`. A saved sheet passes the checks a generate's sheet passes, and is kept
once by the hash of its clean PNG (`bot.media.saved_sheets`). A name is replaced or deleted
only by the person who saved it or an admin; the store decides that in one statement.
"""

from __future__ import annotations

import difflib
import re

from bot.errors import InvalidRequest, InvalidSheet, NotAllowed, NotFound
from bot.media.saved_sheets import ensure_kept, forget_picture, keep_sheet
from bot.model import Actor, Invocation, Reply
from bot.ports import SavedSheet
from commands.chat_sheet import with_composed
from commands.context import Services

NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
NAME_RULE = "1 to 40 letters, digits, - or _"
PREFIX_START = "reference sheet:"
MAX_PREFIX_CHARS = 2000  # six labels of 200 characters and their words
ACTIONS = ("list", "save", "delete")


async def sheets(invocation: Invocation, services: Services) -> Reply:
    """List the scope's saved sheets, save one (the attachment) or delete one."""
    action = str(invocation.options.get("action") or "list").lower()
    if action == "list":
        return await _listed(invocation.actor, services)
    if action not in ACTIONS:
        raise InvalidRequest([f"action is one of {', '.join(ACTIONS)} (got {action!r})"])
    name = checked_name(invocation.options.get("name"), action)
    if action == "save":
        return await _save(invocation, name, services)
    return await _delete(invocation.actor, name, services)


def checked_name(value: object, action: str = "save") -> str:
    """A saved sheet's name as given, or the sentence saying what a name is."""
    if value is None or not str(value).strip():
        raise InvalidRequest([f"name is required to {action} a sheet: {NAME_RULE}"])
    name = str(value).strip()
    if not NAME.fullmatch(name):
        raise InvalidRequest([f"name {name!r} is not a sheet name: {NAME_RULE}"])
    return name


async def find_saved(actor: Actor, name: object, services: Services) -> SavedSheet:
    """The scope's saved sheet of that name, or a refusal naming the close ones."""
    checked = checked_name(name, "use")
    found = await services.saved_sheets.find(scope=actor.scope_key, name=checked)
    if found is None:
        raise NotFound(await _unknown(actor, checked, services))
    return found


async def _listed(actor: Actor, services: Services) -> Reply:
    saved = await services.saved_sheets.in_scope(scope=actor.scope_key)
    if not saved:
        return Reply(
            text="No sheets are saved here yet. Save one with `sheets save NAME` and a sheet.",
            data=(),
        )
    lines = [f"Saved sheets ({len(saved)}):", *(_line(sheet) for sheet in saved)]
    return Reply(text="\n".join(lines), data=tuple(_data(sheet) for sheet in saved))


async def _save(invocation: Invocation, name: str, services: Services) -> Reply:
    invocation = await with_composed(invocation, services)  # `/ltx sheet`'s Save... button
    actor = invocation.actor
    if invocation.attachment is None:
        raise InvalidSheet(f"Attach the reference sheet to save as `{name}` (PNG, JPEG or WebP).")
    given = _prefix(invocation.options.get("prompt_prefix"))
    data_dir = services.settings.data_dir
    kept = await keep_sheet(
        invocation.attachment, data_dir, max_bytes=services.settings.max_sheet_bytes
    )
    prefix = given or _read_prefix(kept.prompt_prefix)
    before = await services.saved_sheets.find(scope=actor.scope_key, name=name)
    record = SavedSheet(
        scope=actor.scope_key,
        name=name,
        sha256=kept.sha256,
        width=kept.width,
        height=kept.height,
        prompt_prefix=prefix,
        saved_by=actor.user_id,
        saved_by_name=actor.display_name or actor.user_id,
        saved_at=services.clock(),
    )
    if not await services.saved_sheets.save(sheet=record, replace_anyones=actor.is_admin):
        await _forget_if_unused(kept.sha256, services)
        holder = await services.saved_sheets.find(scope=actor.scope_key, name=name)
        who = holder.saved_by_name if holder is not None else "someone else"
        raise NotAllowed(
            f"`{name}` is already saved here by {who}; only they or an admin can replace it. "
            "Save this sheet under another name."
        )
    await ensure_kept(data_dir, kept)  # a racing delete of the same picture may have taken it
    if before is not None and before.sha256 != kept.sha256:
        await _forget_if_unused(before.sha256, services)
    verb = "Replaced" if before is not None else "Saved"
    text = f"{verb} sheet `{name}` ({kept.width}x{kept.height}) for everyone here."
    if prefix:
        text += f"\nPrompts made with it start: {prefix}"
    return Reply(text=text, data=_data(record))


async def _delete(actor: Actor, name: str, services: Services) -> Reply:
    by = None if actor.is_admin else actor.user_id
    gone = await services.saved_sheets.delete(scope=actor.scope_key, name=name, by=by)
    if gone is None:
        holder = await services.saved_sheets.find(scope=actor.scope_key, name=name)
        if holder is None:
            raise NotFound(await _unknown(actor, name, services))
        raise NotAllowed(
            f"`{name}` was saved by {holder.saved_by_name}; only they or an admin can delete it."
        )
    await _forget_if_unused(gone.sha256, services)
    return Reply(
        text=f"Deleted sheet `{name}`; videos already made from it keep their own copy.",
        data={"deleted": name},
    )


async def _forget_if_unused(sha256: str, services: Services) -> None:
    async def used() -> bool:
        return await services.saved_sheets.uses(sha256=sha256) > 0

    if not await used():
        await forget_picture(services.settings.data_dir, sha256, used)


async def _unknown(actor: Actor, name: str, services: Services) -> str:
    names = [sheet.name for sheet in await services.saved_sheets.in_scope(scope=actor.scope_key)]
    by_case = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_case), n=3, cutoff=0.5)
    text = f"No sheet is saved here as `{name}`."
    if close:
        return text + " Close names: " + ", ".join(f"`{by_case[c]}`" for c in close) + "."
    if names:
        return text + f" Saved here: {', '.join(f'`{n}`' for n in names[:10])}."
    return text + " None is saved here yet."


def _prefix(value: object) -> str | None:
    """The "Reference sheet: ..." sentence a composed sheet was saved with, checked."""
    if value is None or not str(value).strip():
        return None
    text = " ".join(str(value).split())
    if not text.lower().startswith(PREFIX_START) or len(text) > MAX_PREFIX_CHARS:
        raise InvalidRequest(
            [f"prompt_prefix must start with 'Reference sheet:' and be at most "
             f"{MAX_PREFIX_CHARS} characters"]
        )  # fmt: skip
    return text


def _read_prefix(carried: str | None) -> str | None:
    """The sentence a composed PNG carried, if it is one (a file is anyone's to edit)."""
    try:
        return _prefix(carried)
    except InvalidRequest:
        return None


def _line(sheet: SavedSheet) -> str:
    composed = " · composed" if sheet.prompt_prefix else ""
    day = sheet.saved_at.date().isoformat()
    return (
        f"`{sheet.name}` {sheet.width}x{sheet.height}{composed} · saved by "
        f"{sheet.saved_by_name} on {day}"
    )


def _data(sheet: SavedSheet) -> dict[str, object]:
    return {
        "name": sheet.name,
        "width": sheet.width,
        "height": sheet.height,
        "prompt_prefix": sheet.prompt_prefix,
        "saved_by": sheet.saved_by,
        "saved_by_name": sheet.saved_by_name,
        "saved_at": sheet.saved_at.isoformat(),
        "sha256": sheet.sha256,
    }
