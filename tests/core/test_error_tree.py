"""One error tree: every exception class of the core (and of the commands and storage) lives in
`bot/errors.py`, under `LtxbotError`, and a capacity signal is not mistaken for a failure."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import bot
import bot.errors as errors
import commands
import storage
from bot.errors import FalUnavailable, GenerationFailed, LtxbotError, StreamBroken, StreamBusy

OUTSIDE_THE_TREE = (
    "bot.fal.simulated",  # stands in for fal: it imports nothing of ours, its errors are its own
    "storage.migrations.env",  # alembic's script, importable only inside an alembic run
)


def _modules() -> list[str]:
    names = [
        info.name
        for package in (bot, commands, storage)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]
    return [n for n in names if not any(n == o or n.startswith(o + ".") for o in OUTSIDE_THE_TREE)]


def _exception_classes(module_name: str) -> list[type[BaseException]]:
    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module_name
    ]


def test_every_exception_class_of_the_core_is_in_bot_errors():
    """Adapters keep their own (Discord's NotConnected): the core never names them, it meets
    them only as a Poster that failed."""
    elsewhere = {
        f"{name}.{cls.__name__}"
        for name in _modules()
        if name != errors.__name__
        for cls in _exception_classes(name)
    }
    assert not elsewhere, f"move to bot/errors.py (under LtxbotError): {sorted(elsewhere)}"


def test_every_error_class_derives_from_ltxbot_error():
    classes = _exception_classes(errors.__name__)
    assert len(classes) > 10  # the module was read, not skipped
    assert [c.__name__ for c in classes if not issubclass(c, LtxbotError)] == []


def test_a_busy_stream_is_a_signal_not_a_failure():
    """All stream slots taken: poll instead. Handlers for fal failures must not catch it."""
    assert issubclass(StreamBusy, LtxbotError)
    assert not issubclass(StreamBusy, GenerationFailed)
    assert not issubclass(StreamBusy, StreamBroken)
    assert issubclass(StreamBroken, FalUnavailable)  # a broken stream is fal trouble
