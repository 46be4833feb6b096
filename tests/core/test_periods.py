from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.budget.periods import describe_reset, window

PARIS = ZoneInfo("Europe/Paris")


def test_a_day_resets_at_local_midnight():
    start, end = window("day", datetime(2026, 11, 25, 12, tzinfo=UTC), PARIS)
    assert start == datetime(2026, 11, 24, 23, tzinfo=UTC)
    assert end == datetime(2026, 11, 25, 23, tzinfo=UTC)


def test_the_spring_daylight_saving_day_has_23_hours():
    start, end = window("day", datetime(2026, 3, 29, 12, tzinfo=UTC), PARIS)
    assert (end - start).total_seconds() == 23 * 3600


def test_the_autumn_daylight_saving_day_has_25_hours():
    start, end = window("day", datetime(2026, 10, 25, 12, tzinfo=UTC), PARIS)
    assert (end - start).total_seconds() == 25 * 3600


def test_just_before_and_at_the_boundary():
    boundary = datetime(2026, 11, 25, 23, tzinfo=UTC)
    before = window("day", datetime(2026, 11, 25, 22, 59, 59, 999999, tzinfo=UTC), PARIS)
    at = window("day", boundary, PARIS)
    assert before[1] == boundary and at[0] == boundary


def test_weeks_start_on_monday_and_months_on_the_first():
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday
    assert window("week", now, ZoneInfo("UTC")) == (
        datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC),
    )  # fmt: skip
    assert window("month", datetime(2026, 12, 31, 12, tzinfo=UTC), ZoneInfo("UTC")) == (
        datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert window("none", now, PARIS) == (None, None)


def test_reset_sentence():
    now = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    _, end = window("day", now, PARIS)
    assert describe_reset(end, now, PARIS) == "resets tomorrow 00:00 Europe/Paris (in 4 h 30 min)"
    assert describe_reset(None, now, PARIS) == "never resets"


def test_a_far_reset_reads_as_a_day_not_hundreds_of_hours():
    now = datetime(2026, 11, 5, 10, tzinfo=UTC)
    _, end = window("month", now, ZoneInfo("UTC"))
    assert describe_reset(end, now, ZoneInfo("UTC")) == "resets Tue 1 Dec 00:00 UTC"
    _, end = window("week", datetime(2026, 12, 3, 9, tzinfo=UTC), ZoneInfo("UTC"))
    assert describe_reset(end, datetime(2026, 12, 3, 9, tzinfo=UTC), ZoneInfo("UTC")) == (
        "resets Mon 7 Dec 00:00 UTC"
    )
    _, end = window("month", datetime(2026, 12, 20, tzinfo=UTC), PARIS)
    assert describe_reset(end, datetime(2026, 12, 20, tzinfo=UTC), PARIS).endswith(
        "Fri 1 Jan 2027 00:00 Europe/Paris"
    )
