"""`ltxbot --help` names the data dir the command will use: from the environment or `.env`."""

from pathlib import Path

import pytest

from bot.settings import DATA_DIR_ENV, Settings, data_dir_origin


def test_help_reads_the_data_dir_from_dotenv_like_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"{DATA_DIR_ENV}={tmp_path / 'team'}\n")
    where, why = data_dir_origin()
    assert where == Settings().data_dir == tmp_path / "team"
    assert why == f"set by {DATA_DIR_ENV} in .env"


def test_the_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"{DATA_DIR_ENV}={tmp_path / 'team'}\n")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "mine"))
    assert data_dir_origin() == (tmp_path / "mine", f"set by {DATA_DIR_ENV}")
