"""The real `ltxbot` script in a subprocess against a simulated fal in the test's process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.fal.simulated import SimulatedFal

LTXBOT = str(Path(sys.executable).with_name("ltxbot"))


def bot_env(data_dir: Path, fal: SimulatedFal, bundle: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_"))}
    return {
        **env,
        "LTXBOT_DATA_DIR": str(data_dir),
        "LTXBOT_BACKEND": "fal",  # the real gateway, configured only by settings
        "FAL_KEY": "test-key-not-real",
        "LTXBOT_FAL_QUEUE_URL": fal.queue_url,
        "LTXBOT_FAL_REST_URL": fal.rest_url,
        "LTXBOT_FAL_CDN_URL": fal.cdn_url,
        "SSL_CERT_FILE": str(bundle),
        # A killed bot's job leases run out this fast, so `ltxbot resume` waits 3 s, not 31.
        "LTXBOT_JOB_LEASE_SECONDS": "2",
    }


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """`ltxbot args...`, stdout and stderr in one pipe."""
    return await asyncio.create_subprocess_exec(
        LTXBOT, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )


async def finished(process: asyncio.subprocess.Process, timeout: float = 60) -> str:
    """Everything the process printed, once it has exited (within `timeout`)."""
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    return output.decode()


async def read_until(stream: asyncio.StreamReader, needle: str, timeout: float = 60) -> str:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"{needle!r} never came; got:\n{''.join(seen)}")
            seen.append(line)
            if needle in line:
                return "".join(seen)
