"""Opening storage: URL schemes, migrations that run once and keep data, bad URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_testkit import T0, make_job, require_postgres, throwaway_schema

from bot.money import Money
from storage import open_storage
from storage.engine import create_engine
from storage.migrate import MIGRATIONS


async def test_reopening_keeps_the_data_and_does_not_migrate_again(storage_url: str):
    first = await open_storage(storage_url)
    await first.jobs.insert(make_job("j1"))
    await first.ledger.hold(job_id="j1", scope="s", user_id="u", amount=Money(5), limits=(), at=T0)
    await first.close()
    second = await open_storage(storage_url)
    try:
        assert (await second.jobs.get("j1")) == make_job("j1")
        assert await second.ledger.open_holds() == ["j1"]
    finally:
        await second.close()


@pytest.mark.postgres
async def test_postgres_scheme_alias_is_accepted():
    await require_postgres()
    async with throwaway_schema() as url:
        opened = await open_storage("postgres://" + url.removeprefix("postgresql://"))
        try:
            assert await opened.ledger.open_holds() == []
        finally:
            await opened.close()


@pytest.mark.parametrize("url", ["mysql://root@localhost/db", "sqlite:///:memory:", "sqlite://"])
def test_unsupported_urls_are_refused_with_a_reason(url: str):
    with pytest.raises(ValueError, match=r"SQLite file|unsupported"):
        create_engine(url)


def test_every_migration_lives_in_a_package_a_wheel_ships():
    assert (MIGRATIONS / "__init__.py").exists() and (MIGRATIONS / "env.py").exists()
    versions = MIGRATIONS / "versions"
    assert (versions / "__init__.py").exists()
    assert [p.name for p in versions.glob("0*.py")], "no revision files found"


async def test_sqlite_creates_the_missing_parent_folder(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "ltxbot.sqlite3"
    opened = await open_storage(f"sqlite:///{path}")
    await opened.close()
    assert path.is_file()
