"""For `adapters.console.cli`: `ltxbot sheet` (compose a reference sheet from 1 to 6 pictures)
and the composing half of `ltxbot generate --sheet a.png --sheet b.png` and of `ltxbot sheets
save NAME --sheet ...`.

Both go through `commands.sheet`, so a sheet composed for a generate is exactly the one
`ltxbot sheet` writes for the same pictures, labels, kinds and size. Bad input raises a
`UserError` before anything is composed or held (the terminal exits 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from bot.errors import UserError
from bot.media.compose import ComposedSheet
from bot.media.png_text import with_prompt_prefix
from bot.media.sheet_layout import Kind
from bot.model import Attachment
from bot.request import ImageSize
from bot.request_parsing import parse_request
from bot.settings import Settings
from commands.creative import split_choices
from commands.sheet import SheetAsk, as_attachment, compose, sheet_size

KIND_CHOICES = "|".join(kind.value for kind in Kind)


def add_sheet_parser(sheet: argparse.ArgumentParser) -> None:
    """`ltxbot sheet IMAGE... [--label TEXT]... [--kind ...]... [--resolution | --aspect]`."""
    # Counts and sizes are checked by commands.sheet, which names the picture at fault.
    sheet.add_argument("images", nargs="*", type=Path, metavar="IMAGE", help="PNG, JPEG or WebP")
    add_composition_flags(sheet)
    sheet.add_argument(
        "--resolution", help="the sheet's size: WIDTHxHEIGHT or a named size (default 1536x896)"
    )
    sheet.add_argument(
        "--aspect", help="or an aspect ratio such as 16:9, at the size `auto` renders for it"
    )
    sheet.add_argument("--out", type=Path, required=True, help="where to write the PNG")
    sheet.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def add_composition_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say what each picture is, in the pictures' order."""
    parser.add_argument(
        "--label", action="append", metavar="TEXT", help="what a picture shows, one per picture"
    )
    parser.add_argument(
        "--kind",
        action="append",
        metavar=KIND_CHOICES,
        help="what a picture is, one per picture (default: all props, equal panels)",
    )
    # Off unless asked: in the simulated renders the camera's zoom cut captions at the sheet's
    # edges mid-word, and the prompt's sentence already names every panel in order.
    parser.add_argument(
        "--captions",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="draw each label small in its panel's corner (default: no captions)",
    )


async def sheet_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the composed sheet to `--out` and print its sentence (or the JSON)."""
    out: Path = args.out
    if not args.force and await asyncio.to_thread(out.exists):
        raise UserError(f"{out} already exists; pass --force to overwrite it.")
    ask = SheetAsk(
        _attachments(args.images),
        sheet_size(args.resolution, args.aspect),
        args.label or (),
        args.kind or (),
        captions=args.captions,
    )
    sheet = await compose(ask, max_bytes=settings.max_sheet_bytes)
    # A labelled sheet's sentence rides in the PNG: `ltxbot sheets save NAME --sheet` keeps it.
    labelled = any(panel.label for panel in sheet.panels)
    png = with_prompt_prefix(sheet.png, sheet.prompt_prefix) if labelled else sheet.png
    await asyncio.to_thread(_write, out, png, args.force)
    if getattr(args, "json", False):
        print(json.dumps(_json(sheet, out)))
    else:
        print(f"saved {out} ({sheet.width}x{sheet.height}, {len(sheet.panels)} panels)")
        print(sheet.prompt_prefix)
    return 0


async def generate_attachment(
    args: argparse.Namespace,
    options: dict[str, object],
    settings: Settings,
    say: Callable[[str], None],
) -> Attachment | None:
    """The sheet a generate sends: one `--sheet` as it is, or several (or any `--label` or
    `--kind`) composed at the video's size, carrying the sheet's sentence that generate puts
    before the prompt. None without `--sheet` (the command asks for one)."""
    sheets = options.pop("sheet", None)
    if not isinstance(sheets, list) or not sheets:
        return None
    # `auto` follows the sheet, so the sheet takes the default size and the video follows it;
    # a draft's sheet is the final's (the draft renders it smaller).
    request_options, _ = split_choices(options)
    size = parse_request({**request_options, "prompt": "sheet"}).size()
    attachment, sheet = await _given(args, sheets, size, settings)
    if sheet is not None:
        say(f"composed a {sheet.width}x{sheet.height} sheet of {len(sheet.panels)} pictures")
    return attachment


async def saved_attachment(
    args: argparse.Namespace, options: dict[str, object], settings: Settings
) -> Attachment | None:
    """The sheet `ltxbot sheets save NAME` keeps: one `--sheet` as it is (a composed PNG
    carries its sentence), or several composed as `ltxbot sheet` composes them, the sentence
    passed on as `prompt_prefix` when they have labels."""
    sheets = options.pop("sheet", None)
    if not isinstance(sheets, list) or not sheets:
        return None
    attachment, sheet = await _given(args, sheets, sheet_size(), settings)
    if sheet is not None and args.label:
        options["prompt_prefix"] = sheet.prompt_prefix
    return attachment


async def _given(
    args: argparse.Namespace, sheets: list[object], size: ImageSize, settings: Settings
) -> tuple[Attachment, ComposedSheet | None]:
    """One `--sheet` as a file, or the sheet composed from several (or labelled ones)."""
    paths = [Path(str(path)) for path in sheets]
    if len(paths) == 1 and not args.label and not args.kind:
        if not await asyncio.to_thread(paths[0].is_file):
            raise UserError(f"no such file: {paths[0]}")
        return Attachment.from_path(paths[0]), None
    ask = SheetAsk(_attachments(paths), size, args.label or (), args.kind or (), args.captions)
    sheet = await compose(ask, max_bytes=settings.max_sheet_bytes)
    return as_attachment(sheet), sheet


def _attachments(paths: list[Path]) -> list[Attachment]:
    attachments = []
    for n, path in enumerate(paths, 1):
        if not path.is_file():
            raise UserError(f"Picture {n} ({path}): no such file.")
        attachments.append(Attachment.from_path(path))
    return attachments


def _write(out: Path, data: bytes, force: bool) -> None:
    """The whole PNG or nothing; without `force` an existing file is never replaced, even
    one that appeared while the sheet was composed."""
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    partial.write_bytes(data)
    try:
        if force:
            os.replace(partial, out)
        else:
            _link_new(partial, out)
    except FileExistsError:
        raise UserError(f"{out} already exists; pass --force to overwrite it.") from None
    finally:
        partial.unlink(missing_ok=True)


def _link_new(partial: Path, out: Path) -> None:
    """`partial` as `out`, failing with FileExistsError if `out` exists (no race)."""
    try:
        os.link(partial, out)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: exclusive create instead
        with out.open("xb") as handle:
            handle.write(partial.read_bytes())


def _json(sheet: ComposedSheet, out: Path) -> dict[str, object]:
    return {
        "path": str(out),
        "width": sheet.width,
        "height": sheet.height,
        "panels": [panel.as_json() for panel in sheet.panels],
        "prompt_prefix": sheet.prompt_prefix,
    }
