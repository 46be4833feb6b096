"""`ltxbot fake-fal` (or `python -m bot.fal.simulated`): serve the simulated fal until Ctrl-C.

It prints the base URLs, the CA file and the environment to export so that a bot (or any
fal_client program) in another shell talks to it instead of fal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import TextIO

from bot.fal.simulated.client_setup import trust_bundle
from bot.fal.simulated.server import SimulatedFal


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ltxbot fake-fal",
        description="Serve a local, simulated fal (queue, storage, webhooks; real MP4s). "
        "Nothing is charged and every video is labelled SIMULATED.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (8765; 0 picks one)")
    parser.add_argument(
        "--generation-seconds",
        type=_seconds,
        default=4.0,
        help="how long a render pretends to take (4)",
    )
    parser.add_argument(
        "--queue-seconds",
        type=_seconds,
        default=1.0,
        help="how long a request waits in the queue (1)",
    )
    parser.add_argument(
        "--no-tls", action="store_true", help="serve plain http (the bot follows http URLs too)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where uploads and videos go (a temporary folder)",
    )
    return parser


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: list[str] | None = None) -> None:
    """Parse `argv` (without the program name), serve until Ctrl-C or SIGTERM."""
    args = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


async def serve(
    args: argparse.Namespace, *, stop: asyncio.Event | None = None, out: TextIO = sys.stdout
) -> None:
    """Start the server, print how to reach it, wait for `stop` (Ctrl-C/SIGTERM by default)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    fal = SimulatedFal(
        generation_seconds=args.generation_seconds,
        queue_seconds=args.queue_seconds,
        tls=not args.no_tls,
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
    )
    async with fal:
        bundle = None
        if fal.ca_file is not None:
            # Roots + the simulator's CA, so the bot's other HTTPS (Discord, Slack) still works.
            bundle = trust_bundle(
                fal.ca_file, os.environ.get("SSL_CERT_FILE"), into=fal.data_dir / "trust.pem"
            )
        print(instructions(fal, bundle), file=out, flush=True)
        await stop.wait()
        print("simulated fal: stopping", file=out, flush=True)


def instructions(fal: SimulatedFal, bundle: Path | None) -> str:
    """What to tell the person who started it."""
    lines = [
        f"Simulated fal serving on {fal.base_url} (nothing is charged; Ctrl-C stops it)",
        f"  queue: {fal.queue_url}",
        f"  rest:  {fal.rest_url}",
        f"  cdn:   {fal.cdn_url}",
        f"  jwks:  {fal.jwks_url}",
    ]
    if fal.ca_file is not None:
        lines.append(f"  CA:    {fal.ca_file}")
    lines += [
        "",
        "In the bot's shell (the bot then takes this server for fal, so its jobs count against",
        "budgets; LTXBOT_BACKEND=simulated instead runs a simulated fal inside the bot):",
        "  export LTXBOT_BACKEND=fal",
        "  export FAL_KEY=simulated",
        f"  export LTXBOT_FAL_QUEUE_URL={fal.queue_url}",
        f"  export LTXBOT_FAL_REST_URL={fal.rest_url}",
        f"  export LTXBOT_FAL_CDN_URL={fal.cdn_url}",
        f"  export LTXBOT_FAL_JWKS_URL={fal.jwks_url}",
    ]
    if bundle is not None:
        lines.append(f"  export SSL_CERT_FILE={bundle}")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
