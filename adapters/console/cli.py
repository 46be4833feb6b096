"""`ltxbot`: generate, final, estimate, sheet, sheets, budget, history, show, cancel, resume,
admin, doctor; `run` serves chat.

The terminal commands go through the console adapter and the same commands, ledger and runner
that Discord and Slack use. Every command prints through `Output` (words, or `--json`) and
exits 0 when done, 1 when refused or failed, 2 on a usage error (`exit_codes`). Every problem
of a setting or of the machine is one line naming it; a traceback only with --log-level DEBUG.
The parser is built in `cli_parser`, a generate's wait and Ctrl-C in `cli_generate`, `ltxbot
resume` in `cli_resume`, the checks before anything runs in `cli_inputs`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

from adapters.app import process
from adapters.console.cli_admin import admin_command, save_file, settle_forget
from adapters.console.cli_generate import await_takes, await_video, settled, take_ids
from adapters.console.cli_inputs import prepare
from adapters.console.cli_parser import NO_JSON, build_parser, command_options
from adapters.console.cli_resume import resume
from adapters.console.cli_sheet import generate_attachment, saved_attachment, sheet_command
from adapters.console.cli_sheets import check_sheets_usage
from adapters.console.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED
from adapters.console.logs import start_logging, use_format
from adapters.console.output import SIMULATED_NOTICE, Output
from adapters.console.reply_text import render
from adapters.console.writable import require_writable_data_dir, require_writable_out
from bot.errors import LtxbotError, UserError
from bot.model import Invocation
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from adapters.app.core import Core
    from adapters.console import ConsoleAdapter

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
    args.json = getattr(args, "json", False)
    if args.json and args.command in NO_JSON:
        parser.error(f"--json means nothing for `{args.command}`")
    _check_usage(args, parser)
    args.log_level = getattr(args, "log_level", None)
    start_logging(args.log_level or "WARNING")
    output = Output(json=args.json)
    try:
        code = _main(args, output)
    except BrokenPipeError:  # `ltxbot history | head -1`: the reader has all it wanted
        _stdout_to_devnull()
        code = EXIT_FAILED
    sys.exit(code)


def _check_usage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """The usage errors (exit 2) that argparse's own rules cannot express."""
    if args.command == "generate" and bool(args.sheet) == bool(args.sheet_name):
        parser.error("give --sheet PATH (up to 6 times) or --saved NAME, one of them")
    if args.command == "sheets":
        check_sheets_usage(args, parser)


def _main(args: argparse.Namespace, output: Output) -> int:
    try:
        prepare(args)  # before anything is held: the prompt file, --out, the CA file
        if args.command == "doctor":  # reads the settings itself: a bad one is a red line
            from adapters.console.doctor import doctor  # httpx, yaml: only the doctor needs them

            return process.run(doctor(output))
        settings = load_settings()
        use_format(settings.log_format)
        # Terminal commands print their own progress; the server logs at LTXBOT_LOG_LEVEL.
        level = args.log_level or (settings.log_level if args.command == "run" else "WARNING")
        logging.getLogger().setLevel(level)
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
        return process.run(_run(args, settings, output))
    except (UserError, LtxbotError) as problem:  # sentences written for the person
        return output.error(str(problem))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except Exception as problem:  # a bug or a library's surprise: no traceback unless DEBUG
        log.debug("unexpected error", exc_info=True)
        return output.error(
            f"unexpected error ({type(problem).__name__}); run again with --log-level DEBUG "
            "for the details"
        )


def _stdout_to_devnull() -> None:
    """Python flushes stdout at exit: point it at /dev/null so that flush cannot fail too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


async def _run(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    if args.command == "run":
        return await _serve(settings)
    from adapters.app.core import build_core
    from adapters.console import ConsoleAdapter, console_actor, console_place

    if args.command == "sheet":  # no database and no fal: pictures in, a PNG out
        return await sheet_command(args, settings)
    require_writable_data_dir(settings.data_dir)
    if args.command == "resume":
        return await resume(settings, output)
    makes_video = args.command in {"generate", "final"}
    if makes_video:
        require_writable_out(args.out)
    options = command_options(args)
    if args.command == "sheets":
        attachment = await saved_attachment(args, options, settings)
    else:
        attachment = await generate_attachment(args, options, settings, output.say)
    name = admin_command(args) or args.command
    actor, place = console_actor(), console_place()
    if makes_video:  # stored with the job: `ltxbot resume` saves there too
        place = console_place(out_path=args.out_path)
    invocation = Invocation(name, actor, place, options, attachment)
    # The terminal serves no webhook endpoint: its jobs are followed by stream or polling.
    fal = args.command in {"generate", "final", "cancel"}
    async with build_core(settings, with_fal=fal, serves_webhooks=False) as core:
        console = ConsoleAdapter(settings, core.commands)
        core.posters[console.platform] = console.poster
        if fal and core.services.simulated:
            output.note(SIMULATED_NOTICE)
        try:
            return await _dispatch(args, core, console, invocation, output)
        finally:
            await console.close()  # a live progress line gives the cursor back


async def _dispatch(
    args: argparse.Namespace,
    core: Core,
    console: ConsoleAdapter,
    invocation: Invocation,
    output: Output,
) -> int:
    actor, place = invocation.actor, invocation.place
    reply = await core.commands.dispatch(invocation)
    if args.command in {"generate", "final"}:
        reply = await settled(core.commands, reply, args.yes, actor, place, output)
        if reply.refused or reply.job_id is None:
            return output.reply(reply) or EXIT_FAILED
        output.say(render(reply))
        console.poster.release()  # the progress line starts below the reply
        if takes := take_ids(reply):
            return await await_takes(core, console, takes, args.out, output, args.force)
        return await await_video(core, console, reply.job_id, args.out, output, args.force)
    if invocation.command == "admin forget":
        reply = await settle_forget(core.commands, invocation, reply, json=output.json)
    if reply.refused:
        return output.reply(reply)
    saved = await save_file(reply, getattr(args, "out", None), getattr(args, "force", False))
    code = output.reply(reply, **({"file": str(saved)} if saved is not None else {}))
    if saved is not None:
        output.say(f"saved {saved}")
    return code


async def _serve(settings: Settings) -> int:
    from adapters.app.core import serve
    from adapters.app.platforms import require_a_platform
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
