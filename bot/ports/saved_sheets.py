"""`SavedSheetStore`: a team's reference sheets kept under a name (storage implements it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SavedSheet:
    """One name of a scope for a clean sheet kept by its content hash (several names may
    share one picture). `prompt_prefix` is the "Reference sheet: ..." sentence of a sheet
    composed with labels, else None."""

    scope: str
    name: str
    sha256: str
    width: int
    height: int
    prompt_prefix: str | None
    saved_by: str
    saved_by_name: str
    saved_at: datetime


class SavedSheetStore(Protocol):
    async def save(self, *, sheet: SavedSheet, replace_anyones: bool = False) -> bool:
        """Store `sheet` under its scope and name. A name already taken is replaced only when
        its saver saves it again, or with `replace_anyones` (an admin); False otherwise (the
        stored one stays). Decided in one statement, so two savers racing cannot both win."""
        ...

    async def find(self, *, scope: str, name: str) -> SavedSheet | None: ...

    async def in_scope(self, *, scope: str) -> list[SavedSheet]:
        """Every saved sheet of the scope, by name."""
        ...

    async def delete(self, *, scope: str, name: str, by: str | None) -> SavedSheet | None:
        """Remove the name if `by` saved it (any saver's when `by` is None: an admin); the
        removed record, or None when nothing matched."""
        ...

    async def uses(self, *, sha256: str) -> int:
        """How many names, in any scope, keep this picture."""
        ...
