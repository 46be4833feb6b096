"""For `adapters.console.cli`: the `ltxbot` argument parser, built from the commands' own option
specs, and the options a parsed command line carries."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from adapters.console.cli_admin import add_admin_parser, admin_command
from adapters.console.cli_sheet import add_composition_flags, add_sheet_parser
from bot.pricing import Quote, quote
from bot.request_parsing import parse_request
from bot.settings import Settings
from commands.estimate import ESTIMATE_PROMPT
from commands.options import OptionKind, OptionSpec, number_text
from commands.spec import ADMIN_COMMANDS, COMMANDS

DESCRIPTION = (
    "`ltxbot`: generate, estimate, sheet, budget, history, show, cancel, admin from a "
    "terminal; `run`"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltxbot", description=DESCRIPTION)
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "estimate"):
        command = sub.add_parser(name, help=COMMANDS[name].description)
        for option in COMMANDS[name].options:
            _add_option(command, option)
        if name == "generate":
            add_composition_flags(command)
            command.add_argument(
                "--out",
                type=Path,
                default=Path("video.mp4"),
                help="where to save the MP4 (default video.mp4)",
            )
            command.add_argument(
                "--yes",
                action="store_true",
                help="confirm a price above the confirmation threshold without asking",
            )
        else:
            command.add_argument("--json", action="store_true", help="print JSON")
    sub.add_parser("budget", help=COMMANDS["budget"].description)
    sub.add_parser("history", help=COMMANDS["history"].description)
    for name in ("show", "cancel"):
        sub.add_parser(name, help=COMMANDS[name].description).add_argument("job")
    add_sheet_parser(sub)
    add_admin_parser(sub, _add_option)
    sub.add_parser("resume", help="Finish the terminal's jobs that a crash or Ctrl-C interrupted")
    sub.add_parser("run", help="Serve Discord and Slack (whichever tokens are set)")
    fake = sub.add_parser("fake-fal", help="Run the simulated fal server", add_help=False)
    fake.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _add_option(parser: argparse.ArgumentParser, option: OptionSpec) -> None:
    flag = "--" + option.name.replace("_", "-")
    if option.kind is OptionKind.ATTACHMENT:  # several sheets are composed into one
        parser.add_argument(
            flag,
            type=Path,
            action="append",
            required=option.required,
            help=f"{option.description}; give it up to 6 times to compose one (see --label)",
        )
    elif option.kind is OptionKind.BOOLEAN:
        parser.add_argument(
            flag, action=argparse.BooleanOptionalAction, default=None, help=option.description
        )
    else:
        kinds: dict[OptionKind, Callable[[str], object]] = {
            OptionKind.INTEGER: int,
            OptionKind.NUMBER: float,
        }
        choices = (
            option.choices if option.kind is OptionKind.CHOICE and not option.free_text else None
        )
        parser.add_argument(
            flag,
            type=kinds.get(option.kind, str),
            choices=choices,
            required=option.required,
            help=option.description,
            metavar=_range(option),
        )


def _range(option: OptionSpec) -> str | None:
    """`--num-frames 9..481` in the usage and help; the request model checks the value."""
    if option.minimum is None or option.maximum is None:
        return None
    return f"{number_text(option.minimum)}..{number_text(option.maximum)}"


def command_options(args: argparse.Namespace) -> dict[str, object]:
    """The command's options as its spec names them (unset ones left out)."""
    spec = COMMANDS.get(args.command) or ADMIN_COMMANDS.get(admin_command(args) or "")
    if spec is None:
        return {"job": args.job} if hasattr(args, "job") else {}
    values = {o.name: getattr(args, o.name, None) for o in spec.options}
    return {name: value for name, value in values.items() if value is not None}


def quote_options(options: dict[str, object], settings: Settings) -> Quote:
    """The price of CLI options, with no database and no fal."""
    request = parse_request({"prompt": ESTIMATE_PROMPT, **options})
    size = request.size()
    return quote(size.width, size.height, request.num_frames, settings.price_per_megapixel)
