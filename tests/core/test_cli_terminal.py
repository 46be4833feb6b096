"""The terminal's conventions, run as a user runs `ltxbot` (a subprocess, no fal needed): exit
codes, --json in any position, --version, where data lives, one line per bad setting, the
prompt from a file, and help that shows ranges, defaults and named sizes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.ltxbot_fast import ltxbot_command

LTXBOT = str(Path(sys.executable).with_name("ltxbot"))
PG = os.environ.get("LTXBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def clean_env(tmp_path: Path, **env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LTXBOT_", "FAL_", "SSL_"))}
    return {**clean, "LTXBOT_DATA_DIR": str(tmp_path / "data"), **env}


def run(
    tmp_path: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ltxbot_command(), *args], cwd=tmp_path, env=clean_env(tmp_path, **env), input=stdin,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def one_line_naming(done: subprocess.CompletedProcess[str], *names: str) -> str:
    """The single stderr line of a refusal: exit 1, nothing on stdout, no traceback."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    for name in names:
        assert name in line
    return line


def test_refusals_exit_1_on_stderr_and_usage_errors_exit_2(tmp_path: Path) -> None:
    line = one_line_naming(run(tmp_path, "show", "nosuchjob"), "nosuchjob")
    assert line == "ltxbot: No job nosuchjob here. history lists your jobs."
    real_fal = {"FAL_KEY": "test-key-not-real", "LTXBOT_BACKEND": "fal"}  # never called here
    one_line_naming(run(tmp_path, "cancel", "nosuchjob", **real_fal), "nosuchjob")
    one_line_naming(run(tmp_path, "estimate", "--num-frames", "999"), "num_frames")
    one_line_naming(
        run(tmp_path, "admin", "grant", "--who", "bob", "--amount", "0", "--reason", "x"), "$0"
    )
    one_line_naming(
        run(tmp_path, "admin", "caps", "clear", "--target", "user", "--who", "bob"), "no cap"
    )
    usage = run(tmp_path, "show")
    assert usage.returncode == 2 and "usage: ltxbot show" in usage.stderr
    done = run(tmp_path, "admin", "caps")
    assert done.returncode == 0 and done.stdout.startswith("Budget caps here:"), done.stderr


def test_json_before_or_after_the_command_and_errors_as_json(tmp_path: Path) -> None:
    before, after = run(tmp_path, "--json", "budget"), run(tmp_path, "budget", "--json")
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    body, again = json.loads(before.stdout), json.loads(after.stdout)
    for answer in (body, again):  # "resets in 4 h 38 min" may turn a minute between the runs
        for cap in answer["caps"]:
            cap.pop("resets")
    assert body == again
    [cap] = body["caps"]
    assert (body["left_usd"], cap["cap_usd"], cap["spent_usd"]) == ("10", "10", "0")
    assert cap["resets_at"].endswith("+00:00")
    refused = run(tmp_path, "show", "nosuchjob", "--json")
    assert refused.returncode == 1 and refused.stdout == ""
    assert json.loads(refused.stderr) == {
        "error": "No job nosuchjob here. history lists your jobs."
    }
    usage = run(tmp_path, "--json", "show")
    assert usage.returncode == 2
    assert json.loads(usage.stderr) == {"error": "the following arguments are required: job"}
    assert run(tmp_path, "--json", "run").returncode == 2  # --json means nothing for a server


def test_admin_commands_answer_in_json_with_exact_amounts(tmp_path: Path) -> None:
    granted = run(tmp_path, "admin", "grant", "--who", "bob", "--amount", "0.0000001",
                  "--reason", "a tenth of a micro-dollar", "--json")  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["amount_usd"] == "0.0000001"
    usage = run(tmp_path, "--json", "admin", "usage", "--out", "usage.png")
    assert usage.returncode == 0, usage.stderr
    body = json.loads(usage.stdout)
    assert body["users"] == [{"user_id": "bob", "spent_usd": "0", "held_usd": "0",
                              "granted_usd": "0.0000001", "videos": 0, "in_flight": 0,
                              "released": 0}]  # fmt: skip
    assert body["file"] == "usage.png" and (tmp_path / "usage.png").is_file()
    audit = run(tmp_path, "admin", "audit", "--json")
    [entry] = [json.loads(line) for line in audit.stdout.splitlines()]
    assert entry["action"] == "grant" and entry["reason"] == "a tenth of a micro-dollar"
    limits = run(tmp_path, "admin", "limits", "--json")  # no data of its own: its words
    assert json.loads(limits.stdout)["message"].startswith("Limits here:")


def test_log_level_in_any_position_and_a_bad_one_is_a_usage_error(tmp_path: Path) -> None:
    assert run(tmp_path, "--log-level", "debug", "budget").returncode == 0
    assert run(tmp_path, "budget", "--log-level", "INFO").returncode == 0
    bad = run(tmp_path, "budget", "--log-level", "LOUD")
    assert bad.returncode == 2 and "invalid choice: 'LOUD'" in bad.stderr
    line = one_line_naming(run(tmp_path, "budget", LTXBOT_LOG_LEVEL="loud"), "LTXBOT_LOG_LEVEL")
    assert "'loud' is not a log level" in line


def test_version_comes_from_the_installed_package(tmp_path: Path) -> None:
    done = run(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"ltxbot {version('ltxbot')}"


def test_without_a_data_dir_setting_data_lives_in_the_per_user_directory(tmp_path: Path) -> None:
    env = clean_env(tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg"))
    del env["LTXBOT_DATA_DIR"]
    done = subprocess.run([LTXBOT, "budget"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "xdg" / "ltxbot" / "ltxbot.sqlite3").is_file()
    assert not (tmp_path / "data").exists()  # not ./data of wherever the command runs
    shown = subprocess.run([LTXBOT, "--help"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert (
        f"lives in\n  {tmp_path / 'xdg' / 'ltxbot'}\n(the per-user data directory" in shown.stdout
    )
    chosen = run(tmp_path, "--help").stdout
    assert f"lives in\n  {tmp_path / 'data'}\n(set by LTXBOT_DATA_DIR)" in chosen


def test_bad_database_urls_are_one_line_naming_the_setting(tmp_path: Path) -> None:
    for url, said in [
        ("nonsense", "cannot be read as a database URL"),
        ("mysql://x@y/z", "cannot be read as a database URL"),
        ("postgresql://bob:sekrit@127.0.0.1:1/x", "cannot reach the database at"),
    ]:
        line = one_line_naming(run(tmp_path, "budget", LTXBOT_DATABASE_URL=url),
                               "LTXBOT_DATABASE_URL", said)  # fmt: skip
        assert "sekrit" not in line


def test_a_database_that_does_not_exist_is_named(tmp_path: Path) -> None:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    url = PG.rsplit("/", 1)[0] + "/ltxbot_no_such_database"
    done = run(tmp_path, "budget", LTXBOT_DATABASE_URL=url)
    said = 'database "ltxbot_no_such_database" does not exist'
    one_line_naming(done, "LTXBOT_DATABASE_URL", said)


def test_a_missing_ca_file_is_named_before_anything_runs(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.pem")
    line = one_line_naming(run(tmp_path, "cancel", "abc", SSL_CERT_FILE=missing), "SSL_CERT_FILE")
    assert missing in line


@pytest.mark.parametrize("value", ["", "none", "None"])
def test_an_empty_or_none_default_cap_is_uncapped(tmp_path: Path, value: str) -> None:
    done = run(tmp_path, "budget", LTXBOT_DEFAULT_USER_CAP_USD=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "No budget cap applies to you here."


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    # The pipe is closed before ltxbot writes: its first write fails (BrokenPipeError).
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [LTXBOT, "budget"], cwd=tmp_path, env=clean_env(tmp_path), stdout=writer,
            stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(writer)
    assert done.returncode == 1 and done.stderr == ""


def test_the_prompt_from_a_file_or_stdin_and_never_both(tmp_path: Path) -> None:
    long = tmp_path / "long.txt"
    long.write_text("x" * 4001 + "\n", encoding="utf-8")
    one_line_naming(run(tmp_path, "estimate", "--prompt-file", str(long)), "prompt", "4000")
    fine = run(tmp_path, "estimate", "--prompt-file", "-", "--json", stdin="a chef\n")
    assert fine.returncode == 0 and json.loads(fine.stdout)["cost_usd"] == "0.4020525"
    one_line_naming(run(tmp_path, "estimate", "--prompt-file", "nope.txt"), "nope.txt")
    both = run(tmp_path, "generate", "--sheet", "s.png", "--prompt", "a", "--prompt-file", "-")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_help_shows_ranges_defaults_and_named_sizes_and_offers_only_what_applies(
    tmp_path: Path,
) -> None:
    shown = " ".join(run(tmp_path, "generate", "--help").stdout.split())
    assert "Frames to generate (default 121); 9 to 481" in shown
    assert "square_hd (1024x1024)" in shown and "auto: the sheet's aspect ratio" in shown
    assert "Quality preset (default high); one of low, medium, high, maximum" in shown
    assert "--force" in shown and "--prompt-file" in shown
    caps = run(tmp_path, "admin", "caps", "--help").stdout
    assert "--out" not in caps and "--force" not in caps
    assert "--out" in run(tmp_path, "admin", "usage", "--help").stdout
    assert "--json" not in run(tmp_path, "run", "--help").stdout
