"""The folder tree is the architecture: imports point inwards, platforms and drivers stay out
of the core, the ports load only the records they carry, the simulated fal imports nothing
of the product it stands in for, and no module grows past 300 lines."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINTER = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = LINTER["contracts"]
# What `bot.ports` may load: its own modules, the records that cross them (a job, its events,
# the model, money) and what those need. No rule of the budget, no job logic, no fal client.
PORTS_MAY_LOAD = {"bot", "bot.errors", "bot.events", "bot.jobs", "bot.jobs.record", "bot.model"}
PORTS_MAY_LOAD |= {"bot.money", "bot.numbers", "bot.request"}


def test_import_contracts_hold():
    """import-linter's contracts in pyproject.toml (it also sees imports inside functions)."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken" in done.stdout


def test_the_core_contracts_have_no_exceptions():
    """No `ignore_imports` and no indirect imports allowed for the core: the composition root
    lives outside it."""
    for contract in CONTRACTS:
        if "bot" in contract.get("source_modules", []) or contract["type"] == "layers":
            assert not contract.get("ignore_imports"), contract["name"]
            assert not contract.get("allow_indirect_imports", False), contract["name"]


def test_the_simulated_fal_contract_names_every_other_part_of_the_core():
    """A new core module must join the simulated fal's forbidden list, or it could slip in."""
    (contract,) = [c for c in CONTRACTS if c.get("source_modules") == ["bot.fal.simulated"]]
    forbidden = set(contract["forbidden_modules"])
    core = {_top_module(path) for path in (ROOT / "bot").rglob("*.py")}
    core -= {"bot", "bot.fal", "bot.fal.simulated"}
    missing = {m for m in core if not any(m == f or m.startswith(f + ".") for f in forbidden)}
    assert not missing, f"add to the simulated fal's forbidden_modules: {sorted(missing)}"


def test_the_ports_load_only_the_records_they_carry():
    """Importing the interfaces must not pull in what implements or uses them (no cycles)."""
    code = "import sys, bot.ports; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    ours = {m for m in done.stdout.split() if m.split(".")[0] in LINTER["root_packages"]}
    extra = {m for m in ours if m not in PORTS_MAY_LOAD and not m.startswith("bot.ports")}
    assert not extra, f"bot.ports loads {sorted(extra)}"


# The budget's stores, by the names their protocols have wherever they live.
STORE_TYPES = {"PolicyStore", "ApprovalStore"}


def store_uses(source: str) -> list[str]:
    """Where `source` reaches past the core to the budget's store: `budgets.store`,
    `services.budgets.store` (or `getattr` of it), or a store protocol by name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "store" and _is_core(node.value):
            found.append(f"line {node.lineno}: .store")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and _is_core(node.args[0])
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "store"
        ):
            found.append(f"line {node.lineno}: getattr(..., 'store')")
        if isinstance(node, ast.alias) and node.name.split(".")[-1] in STORE_TYPES:
            found.append(f"imports {node.name}")
    return sorted(found)


def _is_core(node: ast.expr) -> bool:
    """`budgets`, `services`, or any `x.budgets` / `x.services`."""
    if isinstance(node, ast.Name):
        return node.id in ("budgets", "services")
    return isinstance(node, ast.Attribute) and node.attr in ("budgets", "services")


def test_store_uses_finds_every_way_in():
    source = (
        "from bot.ports import PolicyStore\n"
        "services.budgets.store.caps(scope=s)\n"
        "budgets.store\n"
        "getattr(services.budgets, 'store')\n"
        "self.store.save(key=k)\n"  # an adapter's own key-value store is its own business
    )
    found = ["imports PolicyStore", "line 2: .store", "line 3: .store"]
    assert store_uses(source) == [*found, "line 4: getattr(..., 'store')"]


def test_commands_and_adapters_never_touch_the_budgets_store():
    """Every decision is one call to the core (`Budgets`); only the composition root
    (adapters/app) hands the store to it."""
    sources = [*(ROOT / "commands").rglob("*.py"), *(ROOT / "adapters").rglob("*.py")]
    offences = {
        str(path.relative_to(ROOT)): uses
        for path in sources
        if not path.is_relative_to(ROOT / "adapters" / "app")
        and (uses := store_uses(path.read_text()))
    }
    assert not offences, offences


def _top_module(path: Path) -> str:
    """`bot/jobs/record.py` -> `bot.jobs` (a sub-package as a whole), `bot/money.py` ->
    `bot.money`, `bot/fal/gateway.py` -> `bot.fal.gateway` (fal's parts one by one, since the
    simulated fal lives inside `bot.fal`)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[:3] == ["bot", "fal", "simulated"]:
        return "bot.fal.simulated"
    depth = 3 if parts[:2] == ["bot", "fal"] else 2
    return ".".join(parts[:depth])


MAX_MODULE_LINES = 300
PRODUCT_PACKAGES = ("bot", "commands", "adapters", "storage")


def test_no_product_module_is_over_300_lines():
    """Small modules, each with one job: a module that outgrows 300 lines is split along its
    seams."""
    lengths = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }
    too_long = {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES}
    assert not too_long, f"split these modules: {too_long}"


def uncommented_any(source: str) -> list[int]:
    """Lines where `Any` is used (imports, comments and strings aside) with no comment naming
    it, on that line or in the comment lines just above, that says which library forces it.
    Aliases such as `Payload` are commented once where defined; their uses name no `Any`."""
    imports = {
        line
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    uses: list[int] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        line = token.start[0]
        if token.type == tokenize.COMMENT:
            comments[line] = token.string
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(line)
        if token.type == tokenize.NAME and token.string == "Any" and line not in imports:
            uses.append(line)
    return sorted({line for line in uses if not _says_any(line, comments, code_lines)})


def _says_any(line: int, comments: dict[int, str], code_lines: set[int]) -> bool:
    """A comment on `line`, or in the block of comment-only lines right above it, names Any."""
    if "Any" in comments.get(line, ""):
        return True
    above = line - 1
    while above in comments and above not in code_lines:
        if "Any" in comments[above]:
            return True
        above -= 1
    return False


def test_uncommented_any_finds_a_planted_any():
    source = (
        "from typing import Any, TypeAlias\n"
        "def f(x: Any) -> None:\n"  # 2: planted, uncommented
        '    """Any docstring mentioning Any."""\n'
        "    # Any: the library's own signature\n"
        "    y: dict[str, Any] = {}\n"
        "    z: list[Any] = []  # Any: as the library types it\n"
        "    # an unrelated comment\n"
        "    w: Any = None\n"  # 8: the comment above does not name Any
        "# Any: json.loads hands values over as Any,\n"
        "# read defensively.\n"
        "Payload: TypeAlias = dict[str, Any]\n"
        "v: Payload = {}  # Any constant\n"
        "u = typing.Any  # noqa\n"  # 13: a comment that does not name it
    )
    assert uncommented_any(source) == [2, 8, 13]


def test_every_any_in_product_code_says_which_library_forces_it():
    """`Any` only where a library forces it (asyncio's Coroutine, SQLAlchemy's Row, discord.py's
    Item...), with a comment that says so; everything else has its real type or `object`."""
    offences = {
        path.relative_to(ROOT).as_posix(): lines
        for package in PRODUCT_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := uncommented_any(path.read_text(encoding="utf-8")))
    }
    assert not offences, f"type these, or say on the line which library forces Any: {offences}"
