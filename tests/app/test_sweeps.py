"""`ltxbot run`'s periodic work: the hold sweep every turn, the retention sweep on the first turn
and every 12th (hourly at 5 minutes a turn), and a failing sweep never stops the loop."""

from __future__ import annotations

import asyncio

from adapters.app.sweeps import RETENTION_EVERY, sweep_forever


async def test_each_sweep_runs_on_its_turns_and_a_failure_does_not_stop_them(caplog):
    holds: list[int] = []
    retention: list[int] = []
    enough = asyncio.Event()

    async def hold_sweep() -> None:
        holds.append(len(holds))
        if len(holds) == 1:
            raise RuntimeError("database away")  # logged, and the loop goes on
        if len(holds) == RETENTION_EVERY + 1:
            enough.set()

    async def retention_sweep() -> None:
        retention.append(len(holds))

    task = asyncio.create_task(sweep_forever(hold_sweep, retention_sweep, interval=0))
    try:
        await asyncio.wait_for(enough.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert retention[:2] == [1, RETENTION_EVERY + 1]  # after the first and the 13th hold sweep
    assert "hold sweep failed" in caplog.text
