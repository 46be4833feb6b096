"""For `adapters.console.cli`: `ltxbot sheets [list]`, `ltxbot sheets save NAME --sheet x.png`
(several `--sheet`s with `--label`s are composed first, as `ltxbot sheet` does) and `ltxbot
sheets delete NAME`: the same `sheets` command Discord and Slack run."""

from __future__ import annotations

import argparse
from pathlib import Path

from adapters.console.cli_sheet import add_composition_flags
from commands.sheets import ACTIONS


def add_sheets_parser(sheets: argparse.ArgumentParser) -> None:
    sheets.add_argument(
        "action", nargs="?", default="list", choices=ACTIONS, help="list (default), save, delete"
    )
    sheets.add_argument("name", nargs="?", help="the sheet's name: 1 to 40 letters, digits, - or _")
    sheets.add_argument(
        "--sheet",
        type=Path,
        action="append",
        metavar="PATH",
        help="the sheet to save (PNG, JPEG or WebP; a PNG from `ltxbot sheet` keeps its "
        "sentence); give it up to 6 times to compose one (see --label)",
    )
    add_composition_flags(sheets)


def check_sheets_usage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Usage errors (exit 2) that argparse alone cannot see."""
    if args.action != "list" and not args.name:
        parser.error(f"`sheets {args.action}` needs the sheet's NAME")
    if args.action == "save" and not args.sheet:
        parser.error("`sheets save NAME` needs --sheet PATH")
    if args.action != "save" and (args.sheet or args.label or args.kind):
        parser.error("--sheet, --label and --kind are for `sheets save`")
