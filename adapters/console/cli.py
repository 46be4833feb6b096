"""`ltxbot`: generate, estimate, budget, history, show, cancel, admin from a terminal; `run`
serves chat.

The terminal commands go through the console adapter and the same commands, ledger and runner
that Discord and Slack use. A generate above the scope's confirmation threshold asks
"Confirm $X? [y/N]" on a terminal; `--yes` confirms without asking.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.app import process
from adapters.console.cli_admin import (
    add_admin_parser,
    admin_command,
    confirmation_job,
    give_up_waiting,
    save_file,
    settle_confirmation,
    terminal_asker,
)
from bot.errors import LtxbotError, UserError
from bot.events import Succeeded
from bot.model import Actor, Attachment, Invocation, Place, Reply
from bot.pricing import Quote, quote
from bot.request_parsing import parse_request
from bot.settings import Settings, load_settings
from commands import Commands
from commands.estimate import ESTIMATE_PROMPT
from commands.options import OptionKind, OptionSpec, number_text
from commands.spec import ADMIN_COMMANDS, COMMANDS

if TYPE_CHECKING:  # imported where used, as the root opens storage and fal
    from adapters.app.core import Core
    from adapters.console import ConsoleAdapter

log = logging.getLogger("ltxbot")
EXIT_USER, EXIT_CONFIG = 1, 2


def main(argv: list[str] | None = None) -> None:
    raw = sys.argv[1:] if argv is None else list(argv)
    if raw[:1] == ["fake-fal"]:  # its own parser: argparse.REMAINDER drops leading --options
        from bot.fal.simulated.__main__ import main as fake_fal

        fake_fal(raw[1:])
        return
    parser = build_parser()
    args = parser.parse_args(raw)
    logging.basicConfig(
        level=args.log_level or "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
        # Terminal commands print their own progress; the server logs at LTXBOT_LOG_LEVEL.
        level = args.log_level or (settings.log_level if args.command == "run" else "WARNING")
        logging.getLogger().setLevel(level)
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
        code = process.run(_run(args, settings))
    except UserError as problem:
        print(f"ltxbot: {problem}", file=sys.stderr)
        code = EXIT_USER
    except LtxbotError as problem:
        print(f"ltxbot: {problem}", file=sys.stderr)
        code = EXIT_CONFIG
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltxbot", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "estimate"):
        command = sub.add_parser(name, help=COMMANDS[name].description)
        for option in COMMANDS[name].options:
            _add_option(command, option)
        if name == "generate":
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
    add_admin_parser(sub, _add_option)
    sub.add_parser("resume", help="Finish the terminal's jobs that a crash or Ctrl-C interrupted")
    sub.add_parser("run", help="Serve Discord and Slack (whichever tokens are set)")
    fake = sub.add_parser("fake-fal", help="Run the simulated fal server", add_help=False)
    fake.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _add_option(parser: argparse.ArgumentParser, option: OptionSpec) -> None:
    flag = "--" + option.name.replace("_", "-")
    if option.kind is OptionKind.ATTACHMENT:
        parser.add_argument(flag, type=Path, required=option.required, help=option.description)
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


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return await _serve(settings)
    from adapters.app.core import build_core
    from adapters.console import ConsoleAdapter, console_actor, console_place

    if args.command == "resume":
        return await _resume(settings)
    options = _options(args)
    if args.command == "estimate" and args.json:
        print(json.dumps(quote_options(options, settings).as_json()))
        return 0
    attachment = None
    sheet = options.pop("sheet", None)
    if isinstance(sheet, Path):
        if not sheet.is_file():
            raise UserError(f"no such file: {sheet}")
        attachment = Attachment.from_path(sheet)
    name = admin_command(args) or args.command
    actor, place = console_actor(), console_place()
    invocation = Invocation(name, actor, place, options, attachment)
    async with build_core(settings, with_fal=args.command in {"generate", "cancel"}) as core:
        console = ConsoleAdapter(settings, core.commands)
        core.posters[console.platform] = console.poster
        reply = await core.commands.dispatch(invocation)
        if args.command == "generate":
            reply = await _settled(core.commands, reply, args.yes, actor, place)
        print(render(reply))
        saved = await save_file(reply, getattr(args, "out", None))
        if saved is not None:
            print(f"saved {saved}")
        if args.command != "generate":
            return 0
        if reply.job_id is None:
            return EXIT_USER
        return await _await_video(core, console, reply.job_id, args.out)


async def _settled(
    commands: Commands, reply: Reply, yes: bool, actor: Actor, place: Place
) -> Reply:
    """A generate's reply once any price confirmation is answered (a job that waits for an
    approval is aborted: raises UserError)."""
    waiting = confirmation_job(reply)
    if waiting is not None:
        ask = None if yes else terminal_asker()
        if ask is not None:
            print(render(reply))
        reply = await settle_confirmation(commands, waiting, actor, place, assume_yes=yes, ask=ask)
    await give_up_waiting(commands, reply, actor, place)
    return reply


async def _await_video(core: Core, console: ConsoleAdapter, job_id: str, out: Path) -> int:
    try:
        job, event = await console.poster.ending(job_id)
    except asyncio.CancelledError:
        print(f"\nstopping: cancelling job {job_id}", file=sys.stderr)
        await core.supervisor.cancel(job_id)
        raise
    # The poster hears of the ending before the runner records it (delivered, captured).
    await core.supervisor.wait(job_id)
    if not isinstance(event, Succeeded):
        return EXIT_USER
    await asyncio.to_thread(_copy, event.video, out)
    seed = job.result.seed if job.result else None
    remaining = f", {event.remaining.room_text()} left" if event.remaining is not None else ""
    cost = "not charged (simulated)" if job.simulated else str(event.cost)
    print(f"saved {out} · job {job.id} · seed {seed} · cost {cost}{remaining}")
    return 0


async def _resume(settings: Settings) -> int:
    """Resume the console's unfinished jobs and wait for each to end."""
    from adapters.app.core import build_core
    from adapters.console import ConsoleAdapter

    async with build_core(settings) as core:
        console = ConsoleAdapter(settings, core.commands)
        core.posters[console.platform] = console.poster
        resumed = await core.supervisor.resume([console.platform])
        if not resumed:
            print("no unfinished jobs")
            return 0
        print(f"resuming {len(resumed)} job(s): {', '.join(resumed)}")
        await core.supervisor.wait(*resumed)
        for job_id in resumed:
            job = await core.services.jobs.get(job_id)
            video = job.result.video_path if job and job.result else None
            state = job.state.value if job else "lost"
            print(f"job {job_id}: {state}" + (f" · video {video}" if video else ""))
    return 0


def quote_options(options: dict[str, object], settings: Settings) -> Quote:
    """The price of CLI options, with no database and no fal."""
    request = parse_request({"prompt": ESTIMATE_PROMPT, **options})
    size = request.size()
    return quote(size.width, size.height, request.num_frames, settings.price_per_megapixel)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _options(args: argparse.Namespace) -> dict[str, object]:
    spec = COMMANDS.get(args.command) or ADMIN_COMMANDS.get(admin_command(args) or "")
    if spec is None:
        return {"job": args.job} if hasattr(args, "job") else {}
    values = {o.name: getattr(args, o.name, None) for o in spec.options}
    return {name: value for name, value in values.items() if value is not None}


def render(reply: Reply) -> str:
    lines = [_plain(reply.text)]
    lines += [f"  {_plain(name)}: {_plain(value)}" for name, value in reply.fields]
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Chat markup for a terminal: no bold or code marks, `<@alice>` as `@alice`."""
    return _MENTION.sub(r"@\1", text.replace("**", "").replace("`", ""))


_MENTION = re.compile(r"<@([^>\s]+)>")


async def _serve(settings: Settings) -> int:
    from adapters.app.core import require_a_platform, serve
    from adapters.app.process import limit_malloc_arenas

    require_a_platform(settings)
    limit_malloc_arenas()  # before the worker threads start

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, stop)
    return 0


if __name__ == "__main__":
    main()
