"""JSON on the simulated fal's wire, typed here as it imports nothing of the product."""

from __future__ import annotations

from typing import Any, TypeAlias

# What the simulator writes: answers, logs, results, webhook bodies.
JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
JSONObject: TypeAlias = dict[str, JSON]
# What a client sent (a submit's arguments), read defensively with `.get()` and isinstance: its
# values stay Any, as aiohttp's `request.json()` hands them over.
Payload: TypeAlias = dict[str, Any]
