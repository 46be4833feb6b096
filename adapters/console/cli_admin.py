"""For `adapters.console.cli`: the `ltxbot admin ...` parsers, saving a Reply's file, and the price
confirmation that `ltxbot generate` may meet.

The admin parsers are built from `commands.admin_spec.ADMIN_COMMANDS`, like every other platform's
admin commands, so a new admin command shows up here by itself. The terminal's user is an
admin of its own scope ("console:local"); `--who` names other terminal users by login name.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from adapters.console.json_parser import Parser
from adapters.console.reply_text import render
from bot.errors import UserError
from bot.model import Actor, ButtonAction, Invocation, Place, Reply
from bot.money import Money
from commands.admin_spec import ADMIN_COMMANDS
from commands.options import OptionKind, OptionSpec

if TYPE_CHECKING:
    from commands import Commands

ADMIN = "admin"
AddOption = Callable[[Parser, OptionSpec], None]
AddOut = Callable[..., None]  # cli_parser._add_out(parser, help, *, default)
Ask = Callable[[str], Awaitable[bool]]
NO_APPROVAL = (
    "{why} Job {job} was not started and nothing was held: the terminal cannot wait for an "
    "approval. An admin can make room with `ltxbot admin grant` or `ltxbot admin caps`."
)
NOT_CONFIRMED = (
    "job {job} costs {price}, above the confirmation threshold here; nothing was held and it "
    "was not started. Run again with --yes to confirm it, or from a terminal to be asked."
)


def add_admin_parser(
    sub: argparse._SubParsersAction[Parser],
    add_option: AddOption,
    common: Parser,
    add_out: AddOut,
) -> None:
    """`ltxbot admin <caps|limits|...>`: one subcommand per ADMIN_COMMANDS entry, with `--out`
    only where the command makes a file; `common` holds --json and --log-level."""
    admin = sub.add_parser(
        ADMIN,
        help="Budget caps, limits, grants, usage chart, ledger export, audit log",
        description="Admin commands (the terminal's user is an admin of the console scope).",
        parents=[common],
    )
    commands = admin.add_subparsers(dest="admin_command", required=True, metavar="COMMAND")
    for name, spec in ADMIN_COMMANDS.items():
        parser = commands.add_parser(
            name.split(" ", 1)[1],
            help=spec.description,
            description=spec.description,
            parents=[common],
        )
        for option in spec.options:
            if option.name == "json":
                continue  # the terminal's own --json (in `common`) stands for it
            if option.name == "action" and option.kind is OptionKind.CHOICE:
                # `ltxbot admin caps set ...` reads better than `--action set`.
                parser.add_argument(
                    "action", nargs="?", choices=option.choices, help=option.description
                )
            elif option.name == "user" and option.required:
                # `ltxbot admin forget bob` (or discord:GUILD:USER), as `show JOB` takes its job.
                parser.add_argument("user", help=option.description + "; or platform:scope:user")
            else:
                add_option(parser, option)
        if spec.makes_file:
            add_out(parser, "where to save the file; default: under the data dir", default=None)


def admin_command(args: argparse.Namespace) -> str | None:
    """The ADMIN_COMMANDS name the arguments ask for ("admin caps"), or None."""
    sub = getattr(args, "admin_command", None)
    return f"{ADMIN} {sub}" if args.command == ADMIN and sub else None


async def save_file(reply: Reply, out: Path | None, force: bool = False) -> Path | None:
    """Copy the reply's file to `out` (off the event loop); the path the file is at. An `out`
    that appeared since the command started is kept unless `force`."""
    if reply.file is None:
        return None
    if out is None:
        return reply.file  # already under the data dir (reports/)
    await asyncio.to_thread(_copy, reply.file, out, force)
    return out


def confirmation_job(reply: Reply) -> str | None:
    """The job id when the reply asks to confirm a price (Confirm / Abort buttons)."""
    return _job_with(reply, ButtonAction.CONFIRM)


def waiting_job(reply: Reply) -> str | None:
    """The job id when the reply offers Abort: the job waits for a person (a price
    confirmation, an approval) and has not started."""
    return _job_with(reply, ButtonAction.ABORT)


def _job_with(reply: Reply, action: ButtonAction) -> str | None:
    return next((b.job_id for b in reply.buttons if b.action is action), None)


async def give_up_waiting(commands: Commands, reply: Reply, actor: Actor, place: Place) -> None:
    """A job that waits for an admin's approval: the terminal cannot wait hours for one, so
    the job is aborted (nothing was held) and a UserError says why and what to do."""
    job_id = waiting_job(reply)
    if job_id is None:
        return
    await commands.press(ButtonAction.ABORT, job_id, actor, place)
    first = reply.text.splitlines()[0] if reply.text else ""
    raise UserError(NO_APPROVAL.format(job=job_id, why=first.replace("`", "")))


async def settle_confirmation(
    commands: Commands,
    job_id: str,
    actor: Actor,
    place: Place,
    *,
    assume_yes: bool,
    ask: Ask | None,
) -> Reply:
    """Confirm (`--yes`, or "y" at the prompt) or abort the job waiting for its price.

    Without `--yes` and without a terminal to ask on (`ask` is None), the job is aborted, so
    it does not wait for a confirmation nobody can give, and a UserError says what to do.
    """
    press = commands.press
    job = await commands.services.jobs.get(job_id)
    price = Money(job.quoted_nanos) if job is not None else Money.zero()
    if assume_yes:
        yes = True
    elif ask is not None:
        yes = await ask(f"Confirm {price}? [y/N] ")
    else:
        await press(ButtonAction.ABORT, job_id, actor, place)
        raise UserError(NOT_CONFIRMED.format(job=job_id, price=price))
    action = ButtonAction.CONFIRM if yes else ButtonAction.ABORT
    return await press(action, job_id, actor, place)


async def settle_forget(
    commands: Commands, invocation: Invocation, reply: Reply, *, json: bool
) -> Reply:
    """`admin forget` without --yes: on a terminal, the preview and a y/N question (yes: done
    as with --yes); without one, the preview as a refusal (exit 1), as `generate` does."""
    data = reply.data if isinstance(reply.data, dict) else {}
    if reply.refused or data.get("forgotten") is not False or "prompts" not in data:
        return reply
    ask = terminal_asker(stdout=sys.stderr if json else None)
    if ask is None:
        return Reply(text=reply.text, refused=True)
    print(render(reply), file=sys.stderr if json else sys.stdout, flush=True)
    if not await ask("Forget them? [y/N] "):
        return Reply(text="Nothing was changed.", refused=True)
    options = {**invocation.options, "yes": True}
    return await commands.dispatch(replace(invocation, options=options))


def terminal_asker(stdin: TextIO | None = None, stdout: TextIO | None = None) -> Ask | None:
    """A y/N question on the terminal, or None when stdin is not one."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if stdin is None or not stdin.isatty():
        return None

    async def ask(question: str) -> bool:
        stdout.write(question)
        stdout.flush()
        # Wait for the line with the event loop, not in a thread: Ctrl-C stays immediate.
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(stdin.fileno(), wake)
        try:
            await ready
        finally:
            loop.remove_reader(stdin.fileno())
        return stdin.readline().strip().lower() in {"y", "yes"}

    return ask


def _copy(source: Path, target: Path, force: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if force:
        shutil.copyfile(source, target)
        return
    try:
        with source.open("rb") as reading, target.open("xb") as writing:  # x: never over a file
            shutil.copyfileobj(reading, writing)
    except FileExistsError:
        raise UserError(
            f"{target} exists; pass --force to overwrite; the file is at {source}"
        ) from None
