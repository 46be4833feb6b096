"""A data dir that cannot be written is the data dir's problem, not LTXBOT_DATABASE_URL's."""

from pathlib import Path

from adapters.console.doctor import _database
from bot.settings import Settings


async def test_an_unusable_data_dir_is_not_reported_as_a_database_url_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("not a folder")
    settings = Settings(data_dir=tmp_path / "file" / "data", database_url="")
    check = await _database(settings)
    assert check.ok is False
    assert "LTXBOT_DATABASE_URL" not in check.detail + (check.fix or "")
    assert check.fix == "fix LTXBOT_DATA_DIR first"


async def test_a_set_database_url_is_still_checked_on_its_own(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url="nonsense")
    check = await _database(settings)
    assert check.ok is False and "LTXBOT_DATABASE_URL" in check.detail
