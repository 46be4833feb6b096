"""`ltxbot`: generate, estimate, budget, history, show, cancel, admin from a terminal; `run`
serves chat.

The terminal commands go through the console adapter and the same commands, ledger and runner
that Discord and Slack use. A generate above the scope's confirmation threshold asks
"Confirm $X? [y/N]" on a terminal; `--yes` confirms without asking. The parser is built in
`cli_parser`, a generate's wait and Ctrl-C in `cli_generate`, `ltxbot resume` in `cli_resume`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from adapters.app import process
from adapters.console.cli_admin import admin_command, save_file
from adapters.console.cli_generate import await_video, settled
from adapters.console.cli_parser import build_parser, command_options, quote_options
from adapters.console.cli_resume import resume
from adapters.console.exit_codes import EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_USER
from adapters.console.reply_text import render
from adapters.console.writable import require_writable_data_dir, require_writable_out
from bot.errors import LtxbotError, UserError
from bot.model import Attachment, Invocation
from bot.settings import Settings, load_settings

log = logging.getLogger("ltxbot")
__all__ = ["build_parser", "main", "render"]


def main(argv: list[str] | None = None) -> None:
    raw = sys.argv[1:] if argv is None else list(argv)
    if raw[:1] == ["fake-fal"]:  # its own parser: argparse.REMAINDER drops leading --options
        from bot.fal.simulated.__main__ import main as fake_fal

        fake_fal(raw[1:])
        return
    parser = build_parser()
    args = parser.parse_args(raw)
    if args.command == "generate":  # absolute before the loop runs: the cwd is read here
        args.out_path = str(args.out.absolute())
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
        code = EXIT_INTERRUPTED
    sys.exit(code)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        return await _serve(settings)
    from adapters.app.core import build_core
    from adapters.console import ConsoleAdapter, console_actor, console_place

    options = command_options(args)
    if args.command == "estimate" and args.json:  # a price: no storage, no data dir
        print(json.dumps(quote_options(options, settings).as_json()))
        return 0
    require_writable_data_dir(settings.data_dir)
    if args.command == "resume":
        return await resume(settings)
    if args.command == "generate":
        require_writable_out(args.out)
    attachment = None
    sheet = options.pop("sheet", None)
    if isinstance(sheet, Path):
        if not sheet.is_file():
            raise UserError(f"no such file: {sheet}")
        attachment = Attachment.from_path(sheet)
    name = admin_command(args) or args.command
    actor, place = console_actor(), console_place()
    if args.command == "generate":  # stored with the job: `ltxbot resume` saves there too
        place = console_place(out_path=args.out_path)
    invocation = Invocation(name, actor, place, options, attachment)
    # The terminal serves no webhook endpoint: its jobs are followed by stream or polling.
    fal = args.command in {"generate", "cancel"}
    async with build_core(settings, with_fal=fal, serves_webhooks=False) as core:
        console = ConsoleAdapter(settings, core.commands)
        core.posters[console.platform] = console.poster
        reply = await core.commands.dispatch(invocation)
        if args.command == "generate":
            reply = await settled(core.commands, reply, args.yes, actor, place)
        print(render(reply))
        saved = await save_file(reply, getattr(args, "out", None))
        if saved is not None:
            print(f"saved {saved}")
        if args.command != "generate":
            return 0
        if reply.job_id is None:
            return EXIT_USER
        return await await_video(core, console, reply.job_id, args.out)


async def _serve(settings: Settings) -> int:
    from adapters.app.core import require_a_platform, serve
    from adapters.app.process import limit_malloc_arenas

    require_a_platform(settings)
    require_writable_data_dir(settings.data_dir)
    limit_malloc_arenas()  # before the worker threads start

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(settings, stop)
    return 0


if __name__ == "__main__":
    main()
