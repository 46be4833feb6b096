"""The Dockerfile, .dockerignore and compose.yaml keep the shape that matters, checked without
Docker (scripts/docker-check builds and runs the image for real, outside CI).

The Dockerfile is read by Docker's own parser (the `dockerfile` package wraps BuildKit's), so
line continuations, flags and JSON forms are read as Docker reads them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@dataclass
class Stage:
    name: str
    base: str
    commands: list[dockerfile.Command] = field(default_factory=list)

    def of(self, cmd: str) -> list[dockerfile.Command]:
        return [c for c in self.commands if c.cmd == cmd]


def stages() -> tuple[list[dockerfile.Command], list[Stage]]:
    """The instructions before the first FROM (global ARGs), and each stage's."""
    preamble: list[dockerfile.Command] = []
    found: list[Stage] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            words = command.value
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(found))
            found.append(Stage(name, words[0]))
        elif found:
            found[-1].commands.append(command)
        else:
            preamble.append(command)
    return preamble, found


def setting_names() -> set[str]:
    names = set()
    for name, spec in Settings.model_fields.items():
        alias = spec.validation_alias
        names.add(alias.choices[0] if alias is not None else f"LTXBOT_{name.upper()}")
    return names


def test_the_base_image_is_a_build_argument_defaulting_to_the_official_slim_image():
    preamble, found = stages()
    assert [(c.cmd, c.value) for c in preamble] == [("ARG", ("BASE_IMAGE=python:3.11-slim",))]
    names = {stage.name for stage in found}
    # Every stage starts from the base or from an earlier stage: nothing else is pulled.
    assert all(stage.base in {"${BASE_IMAGE}"} | names for stage in found)
    assert found[-1].base == "${BASE_IMAGE}"


def test_the_shipped_stage_runs_ltxbot_as_a_user_that_is_not_root():
    final = stages()[1][-1]
    (user,) = final.of("USER")
    assert user.value[0].split(":")[0] not in {"root", "0"}
    # Nothing after USER runs as root, and the process is the bot.
    assert final.commands.index(user) > max(final.commands.index(c) for c in final.of("RUN"))
    assert final.of("CMD")[0].value == ("ltxbot", "run")
    assert final.of("VOLUME")[0].value == ("/data",)


def test_the_shipped_stage_takes_nothing_from_the_build_context_and_no_secret():
    """Only built things come in (the venv, the wheel), never a source tree with build/ or
    egg-info; the CA secret and the index URL are the build stages' alone."""
    _, found = stages()
    final = found[-1]
    for copy in final.of("COPY") + final.of("ADD"):
        assert any(flag.startswith("--from=") for flag in copy.flags), copy.original
    for run in final.of("RUN"):
        assert not any("type=secret" in flag for flag in run.flags), run.original
    for command in final.of("ENV") + final.of("ARG"):
        assert not any(word.startswith(("PIP_CERT", "PIP_INDEX_URL")) for word in command.value)
    secrets = [s.name for s in found for r in s.of("RUN") if any("secret" in f for f in r.flags)]
    assert secrets and final.name not in secrets


def test_the_dependency_install_sees_pyproject_toml_alone():
    """The layer of third-party packages is rebuilt when the dependencies change, not when
    the README or the code does."""
    _, found = stages()
    (deps,) = [s for s in found if any("requirements.txt" in r.value[0] for r in s.of("RUN"))]
    copied = [c.value[:-1] for c in deps.of("COPY")]
    assert copied == [("pyproject.toml",)]


def test_every_package_is_copied_into_the_build_and_allowed_by_dockerignore():
    """A new top-level package missed here would leave the image without it (the old image's
    bug was the code shadowed by stubs: `cannot import name 'Commands'`)."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include}
    _, found = stages()
    sources = {c.value[0] for s in found for c in s.of("COPY") if not c.flags}
    assert packages <= sources
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"  # an allow list: what is not let in stays out
    allowed = {p.removeprefix("!").rstrip("/") for p in patterns if p.startswith("!")}
    assert sources <= allowed, f"COPY sources not let in by .dockerignore: {sources - allowed}"
    assert {"**/build", "**/*.egg-info", "**/__pycache__"} <= set(patterns)


def test_compose_passes_every_setting_through_and_waits_for_a_healthy_database():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot, database = compose["services"]["ltxbot"], compose["services"]["postgres"]
    names = {entry.split("=", 1)[0] for entry in bot["environment"]}
    assert names == setting_names()
    fixed = dict(entry.split("=", 1) for entry in bot["environment"] if "=" in entry)
    assert fixed["LTXBOT_DATABASE_URL"].startswith("postgresql://")
    assert fixed["LTXBOT_DATA_DIR"] == "/data" and "data:/data" in bot["volumes"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert database["healthcheck"]["test"][1] == "pg_isready"
    assert "version" not in compose  # obsolete in Compose v2; v1.27+ reads the file without it


def test_env_example_names_every_setting():
    text = (ROOT / ".env.example").read_text()
    named = {line.removeprefix("# ").split("=", 1)[0] for line in text.splitlines() if "=" in line}
    assert setting_names() <= named


HEALTHZ = "u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('LTXBOT_WEBHOOK_PORT', '8080')"


def test_the_image_and_compose_check_healthz_on_the_bots_http_port_without_curl():
    """`ltxbot run` always serves /healthz on LTXBOT_WEBHOOK_PORT (Discord-only too)."""
    final = stages()[1][-1]
    (check,) = final.of("HEALTHCHECK")
    assert check.value[0] == "CMD" and check.value[1:3] == ("python3", "-c")
    assert HEALTHZ in check.value[3]
    assert "8080" in final.of("EXPOSE")[0].value
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    test = compose["services"]["ltxbot"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python3", "-c"] and HEALTHZ in test[3]
