"""The values of a Slack text command's options, checked: mentions, channels, numbers, yes/no.

Each adds a sentence to `problems` instead of raising, so one reply names every bad value.
"""

from __future__ import annotations

from adapters.slack.markup import PLAIN_MENTION, channel_id, readable, subject_id
from commands.options import CommandSpec, OptionSpec

POOL_WORDS = {"pool", "team"}
UNSET_WORDS = {"none", "off"}


def who_value(
    spec: CommandSpec, options: dict[str, object], value: str, problems: list[str]
) -> str:
    found = subject_id(value)
    if found is not None:
        return found
    if value.lower() in POOL_WORDS and spec.name == "admin grant":
        return "pool"
    if value.startswith("@"):
        problems.append(PLAIN_MENTION.format(name=value, kind="U"))
    elif str(options.get("target", "")).lower() == "role":
        return readable(value)  # a user group by name: the core matches what it is given
    else:
        problems.append(f"who takes a mention (@name from the autocomplete), not {value!r}")
    return value


def user_value(value: str, problems: list[str]) -> str:
    found = subject_id(value)
    if found is not None:
        return found
    if value.startswith("@"):
        problems.append(PLAIN_MENTION.format(name=value, kind="U"))
    else:
        problems.append(f"user takes a mention (@name from the autocomplete), not {value!r}")
    return value


def channel_value(value: str, problems: list[str]) -> str:
    found = channel_id(value)
    if found is not None or value.lower() in UNSET_WORDS:
        return found or value.lower()
    if value.startswith("#"):
        problems.append(PLAIN_MENTION.format(name=value, kind="C"))
    else:
        problems.append(
            f"channel takes a channel mention (#name from the autocomplete), not {value!r}"
        )
    return value


def integer_value(option: OptionSpec, value: str, problems: list[str]) -> int | None:
    try:
        number = int(value)
    except ValueError:
        problems.append(f"{option.name} must be a whole number (got {value!r})")
        return None
    low, high = option.minimum, option.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        allowed = f"{low if low is not None else '…'} to {high if high is not None else '…'}"
        problems.append(f"{option.name} = {number} is out of range: allowed {allowed}")
    return number


def boolean_value(option: OptionSpec, value: str, problems: list[str]) -> bool | None:
    lower = value.lower()
    if lower in _TRUE | _FALSE:
        return lower in _TRUE
    problems.append(f"{option.name} is true or false (got {value!r})")
    return None


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def looks_boolean(word: str) -> bool:
    return word.lower() in _TRUE | _FALSE
