"""What a command and its options are, and the options read off `GenerationRequest`'s fields.

A request option's kind comes from the field's annotation, its range from `ge`/`le`, its choices
from an enum or a Literal, its default and description from the field: the request model is the
one place they are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from types import NoneType, UnionType
from typing import Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.request import AUTO, NAMED_SIZES, GenerationRequest, bounds

DEFAULT_MARK = " (default "  # how a description names its default: "... (default 121)"


class OptionKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    ATTACHMENT = "attachment"


@dataclass(frozen=True, slots=True)
class OptionSpec:
    name: str
    kind: OptionKind
    description: str  # at most 100 characters (Discord's limit)
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    # What the command uses when the option is not given (None: nothing, or not known here).
    default: object = None
    # Only shown where an admin allows it (the safety checker may be turned off per server).
    restricted: bool = False
    # Free text accepted too (resolution: a named size or WIDTHxHEIGHT).
    free_text: bool = False
    max_length: int | None = None  # of a text option
    # What people read as the option's name ("Frames" for num_frames): forms and help.
    title: str = ""

    @property
    def label(self) -> str:
        """The option's human name: its title, else its name in words."""
        return self.title or self.name.replace("_", " ").capitalize()

    @property
    def range_text(self) -> str:
        """ "9 to 481", "at least 0", "" (unbounded): the range as people read it."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{number_text(low)} to {number_text(high)}"
        if low is not None:
            return f"at least {number_text(low)}"
        if high is not None:
            return f"at most {number_text(high)}"
        return ""

    @property
    def hint(self) -> str:
        """The description with the range before the default: "Frames to generate, 9 to 481
        (default 121)" (forms show it under the input)."""
        if not self.range_text:
            return self.description
        head, default, tail = self.description.partition(DEFAULT_MARK)
        return f"{head}, {self.range_text}{default}{tail}"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()
    makes_file: bool = False  # answers with a file (a chart, a CSV): the terminal offers --out


def request_option(
    name: str, *, description: str | None = None, with_default: bool = True
) -> OptionSpec:
    """The option for one field of `GenerationRequest`.

    `with_default=False` leaves the default out of the option and its description (a channel
    preset has no default: leaving it out changes nothing).
    """
    info = GenerationRequest.model_fields[name]
    kind, choices, free_text = _kind(info)
    low, high = bounds(info)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    required = info.is_required()
    default = None if required or not with_default else _plain(info.default)
    text = description or info.description or name
    # A text default (the negative prompt) is too long to show in a description.
    if default is not None and kind is not OptionKind.TEXT:
        text = f"{text}{DEFAULT_MARK}{in_words(default)})"
    return OptionSpec(
        name,
        kind,
        text,
        required=required,
        minimum=low,
        maximum=high,
        choices=choices,
        default=default,
        restricted=bool(extra.get("restricted")),
        free_text=free_text,
        max_length=next((m.max_length for m in info.metadata if _is_max_len(m)), None),
        title=info.title or "",
    )


def help_text(option: OptionSpec) -> str:
    """The option as a terminal's help shows it: its description (with its default), range,
    choices or named sizes, all from the spec, so the help cannot drift from what is checked."""
    parts = [option.description]
    if option.minimum is not None and option.maximum is not None:
        parts.append(f"{number_text(option.minimum)} to {number_text(option.maximum)}")
    if option.free_text:
        named = ", ".join(
            f"{name} ({w}x{h})" for name, (w, h) in NAMED_SIZES.items() if name in option.choices
        )
        parts.append(f"named sizes: {named}; {AUTO}: the sheet's aspect ratio")
    elif option.choices:
        parts.append("one of " + ", ".join(option.choices))
    if option.kind is OptionKind.TEXT and isinstance(option.default, str) and option.default:
        parts.append(f"default {option.default!r}")  # left out of the description (too long)
    if option.max_length is not None:
        parts.append(f"at most {option.max_length} characters")
    return "; ".join(parts)


def _plain(value: object) -> object:
    """A field default as a user would type it: an enum's value, a size as WIDTHxHEIGHT."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return str(value)
    return value


def in_words(value: object) -> str:
    """A default as a description shows it: on/off, 121, high."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return number_text(value)
    return str(value)


def number_text(value: float) -> str:
    """A bound or default written out exactly: 24, 0.13, 4294967295 (not 4.29497e+09)."""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


def _kind(info: FieldInfo) -> tuple[OptionKind, tuple[str, ...], bool]:
    """Kind, choices and whether free text is accepted, from the field's annotation."""
    members = [t for t in _members(info.annotation) if t is not NoneType]
    literals = [str(v) for t in members if get_origin(t) is Literal for v in get_args(t)]
    if len(members) > 1:  # a named size or an ImageSize given as WIDTHxHEIGHT
        return OptionKind.CHOICE, (*map(str, info.examples or ()), *literals), True
    (only,) = members
    if literals:
        return OptionKind.CHOICE, tuple(literals), False
    if isinstance(only, type) and issubclass(only, Enum):
        return OptionKind.CHOICE, tuple(str(member.value) for member in only), False
    kinds: dict[object, OptionKind] = {
        str: OptionKind.TEXT,
        bool: OptionKind.BOOLEAN,
        int: OptionKind.INTEGER,
        float: OptionKind.NUMBER,
    }
    return kinds[only], (), False  # a KeyError: a field type no adapter knows how to offer


def _members(annotation: object) -> tuple[object, ...]:
    if get_origin(annotation) in (Union, UnionType):
        return get_args(annotation)
    return (annotation,)


def _is_max_len(metadata: object) -> bool:
    return isinstance(metadata, annotated_types.MaxLen)
