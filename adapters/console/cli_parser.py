"""For `adapters.console.cli`: the `ltxbot` argument parser, built from the commands' own option
specs, and the options a parsed command line carries.

`--json` and `--log-level` are accepted before or after the command (`ltxbot --json budget`,
`ltxbot budget --json`): each parser has them with a suppressed default, so a later parser
never resets what an earlier one read. Only the options that mean something for a command are
offered to it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from adapters.console.cli_admin import add_admin_parser, admin_command
from adapters.console.cli_sheet import add_composition_flags, add_sheet_parser
from adapters.console.cli_sheets import add_sheets_parser
from adapters.console.json_parser import Parser
from bot.settings import data_dir_origin
from commands.admin_spec import ADMIN_COMMANDS
from commands.options import OptionKind, OptionSpec, help_text, number_text
from commands.spec import COMMANDS, PROMPT, SHEET_NAME

SHEET_HELP = "Compose one reference sheet from 1 to 6 pictures"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# What `--json` means nothing for: a server, and the simulated fal's own command line.
NO_JSON = {"run", "fake-fal"}


def _common(*, with_json: bool) -> Parser:
    common = Parser(add_help=False)
    if with_json:
        common.add_argument(
            "--json",
            action="store_true",
            default=argparse.SUPPRESS,
            help="answer with JSON on stdout (a list: one object per line; amounts as exact "
            'decimal strings); errors as {"error": ...} on stderr',
        )
    common.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=argparse.SUPPRESS,
        help="log this much on stderr (default WARNING; `run`: LTXBOT_LOG_LEVEL); DEBUG also "
        "shows the traceback of an unexpected error",
    )
    return common


def _version() -> str:
    try:
        return version("ltxbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> Parser:
    common, plain = _common(with_json=True), _common(with_json=False)
    where, why = data_dir_origin()
    parser = Parser(
        prog="ltxbot",
        description="Make short videos with LTX-2.3 on fal from a terminal; `run` serves "
        "Discord and Slack.",
        # Raw: a path is never wrapped at its hyphens.
        epilog=f"Data (the SQLite ledger, sheets, videos, reports) lives in\n  {where}\n({why}).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"ltxbot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, *, with_json: bool = True) -> Parser:
        return sub.add_parser(
            name, help=help, description=help, parents=[common if with_json else plain]
        )

    generate = command("generate", COMMANDS["generate"].description)
    _add_prompt(generate, required=True)
    for option in COMMANDS["generate"].options:
        if option.name not in (PROMPT.name, SHEET_NAME.name):
            add_option(generate, option)
    generate.add_argument(
        "--saved", dest=SHEET_NAME.name, metavar="NAME", help=_escaped(help_text(SHEET_NAME))
    )
    add_composition_flags(generate)
    _add_out(generate, "where to save the MP4 (default video.mp4)", default=Path("video.mp4"))
    generate.add_argument(
        "--yes", action="store_true", help="confirm a price above the confirmation threshold"
    )
    estimate = command("estimate", COMMANDS["estimate"].description)
    _add_prompt(estimate, required=False)
    for option in COMMANDS["estimate"].options:
        add_option(estimate, option)
    for name in ("budget", "history"):
        command(name, COMMANDS[name].description)
    for name in ("show", "cancel"):
        command(name, COMMANDS[name].description).add_argument("job", help="the job's id")
    _add_final(command("final", COMMANDS["final"].description))
    add_sheet_parser(command("sheet", SHEET_HELP))
    add_sheets_parser(command("sheets", COMMANDS["sheets"].description))
    add_admin_parser(sub, add_option, common, _add_out)
    command("resume", "Finish the terminal's jobs that a crash or Ctrl-C interrupted")
    command("doctor", "Check the settings, data dir, database, fal's keys and the chat tokens")
    command("run", "Serve Discord and Slack (whichever tokens are set)", with_json=False)
    fake = sub.add_parser("fake-fal", help="Run the simulated fal server", add_help=False)
    fake.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _add_final(final: argparse.ArgumentParser) -> None:
    """`ltxbot final JOB [--take K] [--resolution WxH] [--out PATH] [--yes]`."""
    job, take, resolution = COMMANDS["final"].options
    final.add_argument("job", help=job.description)
    final.add_argument("--take", type=int, metavar="K", help=take.description)
    final.add_argument("--resolution", metavar="WxH|NAME", help=resolution.description)
    _add_out(final, "where to save the MP4 (default final.mp4)", default=Path("final.mp4"))
    final.add_argument(
        "--yes", action="store_true", help="confirm a price above the confirmation threshold"
    )


def _add_prompt(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """`--prompt TEXT` or `--prompt-file PATH` (`-`: stdin), one of them: shells cut long
    arguments, and a prompt may run to 4000 characters."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--prompt", type=str, help=_escaped(help_text(PROMPT)))
    group.add_argument(
        "--prompt-file",
        type=Path,
        metavar="PATH",
        help="read the prompt from this UTF-8 file (-: from stdin)",
    )


def _add_out(parser: argparse.ArgumentParser, help: str, *, default: Path | None) -> None:
    parser.add_argument("--out", type=Path, default=default, metavar="PATH", help=help)
    parser.add_argument(
        "--force", action="store_true", help="overwrite the --out file if it exists"
    )


def add_option(parser: argparse.ArgumentParser, option: OptionSpec) -> None:
    flag = "--" + option.name.replace("_", "-")
    text = _escaped(help_text(option))
    if option.kind is OptionKind.ATTACHMENT:  # several sheets are composed into one
        text += "; give it up to 6 times to compose one sheet (see --label)"
        parser.add_argument(
            flag, type=Path, action="append", required=option.required, help=text, metavar="PATH"
        )
    elif option.kind is OptionKind.BOOLEAN:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
    else:
        kinds: dict[OptionKind, Callable[[str], object]] = {
            OptionKind.INTEGER: int,
            OptionKind.NUMBER: float,
        }
        fixed = option.kind is OptionKind.CHOICE and not option.free_text
        parser.add_argument(
            flag,
            type=kinds.get(option.kind, str),
            choices=option.choices if fixed else None,
            required=option.required,
            help=text,
            metavar=_metavar(option),
        )


def _escaped(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help with %


def _metavar(option: OptionSpec) -> str | None:
    """`--num-frames 9..481` in the usage; the request model checks the value."""
    if option.minimum is not None and option.maximum is not None:
        return f"{number_text(option.minimum)}..{number_text(option.maximum)}"
    if option.free_text:
        return "WxH|NAME"
    return None


def command_options(args: argparse.Namespace) -> dict[str, object]:
    """The command's options as its spec names them (unset ones left out)."""
    spec = COMMANDS.get(args.command) or ADMIN_COMMANDS.get(admin_command(args) or "")
    if spec is None:
        return {"job": args.job} if hasattr(args, "job") else {}
    values = {o.name: getattr(args, o.name, None) for o in spec.options}
    if getattr(args, "prompt", None) is not None:  # estimate's, which its spec leaves out
        values[PROMPT.name] = args.prompt
    values.pop("json", None)  # the terminal's --json is its own (`Output`), never an option
    return {name: value for name, value in values.items() if value is not None}
