"""Settling a job: fal's bill read strictly, the probed price as fallback, never above the hold."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from bot.jobs.billing import billed_megapixels, settle
from bot.jobs.record import Job, Rendered
from bot.money import Money
from bot.pricing import DEFAULT_PRICE_PER_MEGAPIXEL as PRICE
from bot.pricing import quote
from commands.job_details import job_details

# 1024x596 x 121 frames = 73.85 MP, rounded up to 74.
SMALLER = Rendered(
    width=1024,
    height=596,
    num_frames=121,
    frames_per_second=24,
    duration_seconds=5.04,
    has_audio=True,
    file_size=1,
)
HOLD = quote(1536, 896, 121).cost  # 167 MP


def settled(header: str | None, hold: Money = HOLD):
    return settle(
        job_id="j1", hold=hold, billable_units=header, rendered=SMALLER, price_per_megapixel=PRICE
    )


@pytest.mark.parametrize(("header", "units"), [("167", 167), ("166.5", Decimal("166.5"))])
def test_a_decimal_number_of_units_is_read(header, units):
    assert billed_megapixels(header, job_id="j1") == units


@pytest.mark.parametrize(
    "header", ["", "167 MP", "-1", "1e3", "NaN", "Infinity", "1,5", "0x10", ".5", "١٦٧"]
)
def test_anything_else_is_treated_as_absent_with_a_warning(header, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.jobs.billing"):
        assert billed_megapixels(header, job_id="j1") is None
    assert "malformed x-fal-billable-units" in caplog.text


def test_the_bill_is_charged_not_the_smaller_video():
    bill = settled("167")
    assert bill.probed_megapixels == 74 and bill.probed == Money.usd(PRICE * 74)
    assert bill.billed_megapixels == 167 and bill.billed == HOLD == bill.charge
    assert bill.uncharged == Money.zero()


def test_a_fractional_bill_rounds_up_to_the_nano_dollar():
    bill = settled("0.5")
    assert bill.charge == Money.usd(PRICE / 2)  # 0.00120375 exactly
    assert settled("0.0000001").charge == Money(1)  # 0.24 nano-dollars, never undercharged


@pytest.mark.parametrize("header", [None, "167 MP"])
def test_without_a_readable_bill_the_probed_video_is_charged(header):
    bill = settled(header)
    assert bill.billed is None and bill.billed_megapixels is None
    assert bill.charge == bill.probed == Money.usd(PRICE * 74)


def test_a_bill_above_the_hold_captures_the_hold_and_keeps_the_gap(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.jobs.billing"):
        bill = settled("200")
    assert bill.charge == HOLD and bill.billed == Money.usd(PRICE * 200)
    assert bill.uncharged == Money.usd(PRICE * 200) - HOLD
    assert "fal billed 200 MP" in caplog.text and "above the" in caplog.text


def test_a_probed_video_above_a_small_hold_is_capped_too():
    bill = settled(None, hold=Money(1000))
    assert bill.charge == Money(1000) and bill.uncharged == bill.probed - Money(1000)


def test_a_job_stored_before_the_bill_was_read_still_loads():
    document = {
        "id": "j1",
        "origin": {"platform": "console", "scope": "local", "channel_id": "c", "user_id": "u"},
        "request": {"prompt": "x"},
        "quoted_megapixels": 1,
        "quoted_nanos": 2407500,
        "captured_nanos": 2407500,
        "actual_nanos": 2407500,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    job = Job.model_validate(document)
    assert job.probed_nanos == 2407500 and job.billed_nanos is None and job.uncharged_nanos == 0
    assert "actual_nanos" not in job.model_dump_json()
    shown = dict(job_details(job).fields)
    assert shown["Probed video"] == str(Money(2407500)) and shown["Billed by fal"] == "no bill sent"
