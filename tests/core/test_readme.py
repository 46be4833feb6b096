"""The README documents every setting and the two set-up commands CI relies on."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme_table():
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = list(alias.choices) if alias is not None else [f"LTXBOT_{name.upper()}"]
        assert any(f"`{env}`" in README for env in names), f"{names[0]} is not documented"


def test_the_two_setup_commands_come_first_and_ci_runs_the_second():
    commands = [
        line.split()[0] for line in README.split("```sh", 1)[1].split("```")[0].strip().splitlines()
    ]
    assert commands == ["./scripts/try", "./scripts/test"]
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()
