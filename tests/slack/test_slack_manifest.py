"""The app manifest names what the code listens for, with the scopes the code needs."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.slack.adapter import BOT_SCOPES, EVENTS_PATH
from adapters.slack.entries import FUNCTION_ID, SHORTCUT_ID, STEP_OPTIONS
from adapters.slack.handlers import SLASH_COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "adapters" / "slack" / "manifest.yaml"


def section(text: str, name: str) -> str:
    """The lines under a top-level key (the manifest is plain block YAML)."""
    match = re.search(rf"^{name}:\n((?:[ #].*\n|\n)*)", text, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_manifest_matches_the_listeners() -> None:
    text = MANIFEST.read_text()
    features = section(text, "features")
    assert f"- command: {SLASH_COMMAND}\n" in features
    assert f"callback_id: {SHORTCUT_ID}\n" in features and "type: message\n" in features
    scopes = re.findall(r"^      - ([a-z_.:]+)$", section(text, "oauth_config"), re.MULTILINE)
    assert sorted(scopes) == sorted(BOT_SCOPES)
    assert {"files:read", "files:write", "chat:write", "commands", "app_mentions:read"} <= set(
        scopes
    )
    events = section(text, "settings")
    assert "- app_mention\n" in events and "- function_executed\n" in events
    assert "function_runtime: remote" in events and "org_deploy_enabled: true" in events
    assert text.count(f"https://ltxbot.example.com{EVENTS_PATH}") == 3
    functions = section(text, "functions")
    assert functions.startswith(f"  {FUNCTION_ID}:\n")
    inputs = functions.split("output_parameters:")[0]
    for name in (*STEP_OPTIONS, "requester", "channel", "sheet"):
        assert f"\n      {name}:\n" in inputs, name
    for name in ("video_link", "job_id", "cost", "seed"):
        assert f"\n      {name}:\n" in functions.split("output_parameters:")[1], name
    assert "\t" not in text
