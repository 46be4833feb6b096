"""`ltxbot fake-fal`: its options, and what it prints for the person who started it."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.fal.simulated.__main__ import build_parser, serve


class Printed(io.StringIO):
    """Captures what serve() prints; `written` is set at the first print."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)


def test_parser_reads_every_option(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["--host", "0.0.0.0", "--port", "9001", "--generation-seconds", "0.5", "--no-tls",
         "--data-dir", str(tmp_path)]
    )  # fmt: skip
    assert (args.host, args.port, args.generation_seconds) == ("0.0.0.0", 9001, 0.5)
    assert args.no_tls is True and args.data_dir == tmp_path
    defaults = build_parser().parse_args([])
    assert (defaults.host, defaults.port, defaults.no_tls) == ("127.0.0.1", 8765, False)


def test_parser_refuses_negative_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--generation-seconds", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err


async def test_serve_prints_urls_ca_and_exports_then_stops(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--port", "0", "--data-dir", str(tmp_path)])
    stop, out = asyncio.Event(), Printed()
    task = asyncio.create_task(serve(args, stop=stop, out=out))
    try:
        async with asyncio.timeout(5):
            await out.written.wait()
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    text = out.getvalue()
    queue = next(line.split("=", 1)[1] for line in text.splitlines() if "FAL_QUEUE_URL=" in line)
    assert queue.startswith("https://127.0.0.1:") and queue.endswith("/queue")
    for name in ("LTXBOT_FAL_REST_URL=", "LTXBOT_FAL_CDN_URL=", "LTXBOT_FAL_JWKS_URL="):
        assert f"export {name}https://127.0.0.1:" in text
    assert f"CA:    {tmp_path / 'simulated-fal-ca.pem'}" in text
    assert f"export SSL_CERT_FILE={tmp_path / 'trust.pem'}" in text
    assert "BEGIN CERTIFICATE" in (tmp_path / "trust.pem").read_text()
    assert text.rstrip().endswith("stopping")


def test_ltxbot_fake_fal_passes_every_option_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters.console.cli
    import bot.fal.simulated.__main__ as fake_fal

    seen: list[list[str]] = []
    monkeypatch.setattr(fake_fal, "main", seen.append)
    adapters.console.cli.main(["fake-fal", "--port", "0", "--no-tls"])
    assert seen == [["--port", "0", "--no-tls"]]
