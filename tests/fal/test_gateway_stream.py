"""`FalGateway.watch`: fal's server-sent status stream, through the gateway's aiohttp session."""

from __future__ import annotations

import pytest
from falkit import arguments

from bot.errors import StreamBroken, StreamBusy
from bot.fal.gateway import FalGateway
from bot.fal.simulated import SimulatedFal
from bot.fal.stream import _LogTail

ORDER = ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


async def test_watch_yields_positions_then_logs_then_completed_in_one_request(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    seen = [status async for status in gateway.watch(request_id)]
    states = [status.state for status in seen]
    assert states[0] == "IN_QUEUE" and states[-1] == "COMPLETED"
    assert states == sorted(states, key=ORDER.index) and "IN_PROGRESS" in states
    positions = [s.queue_position for s in seen if s.state == "IN_QUEUE"]
    assert positions == sorted(positions, reverse=True) and positions[0] >= 1
    assert sum(s.state == "IN_PROGRESS" for s in seen) >= 2  # progress shown as it came
    final = seen[-1]
    assert final.error is None and final.logs[-1] == "Done"
    # fal sends each line once (only the new ones per event): every line, once, in order.
    steps = [line for line in final.logs if line.startswith("Denoising")]
    assert steps == [f"Denoising step {n}/8" for n in range(1, 9)]
    assert len(final.logs) == len(set(final.logs))
    assert (fal.stream_requests, fal.status_requests) == (1, 0)
    assert gateway.streams_open == 0


async def test_a_dropped_stream_raises_stream_broken_worth_a_reconnect(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    fal.pause()
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    fal.faults.drop_stream_next = 1
    seen = []
    with pytest.raises(StreamBroken) as caught:
        async for status in gateway.watch(request_id):
            seen.append(status.state)
    assert seen == ["IN_QUEUE"]  # the first event came, then the connection was cut
    assert caught.value.retry and caught.value.retryable
    assert "stream broke" in caught.value.reason
    assert gateway.streams_open == 0
    fal.resume()
    again = [status.state async for status in gateway.watch(request_id)]
    assert again[-1] == "COMPLETED" and fal.stream_requests == 2


async def test_a_fal_without_the_stream_says_so_and_is_not_retried(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    fal.faults.stream_missing = True
    with pytest.raises(StreamBroken) as caught:
        async for _ in gateway.watch(request_id):
            pass
    assert caught.value.retry is False and "HTTP 404" in caught.value.reason
    assert fal.status_requests == 0  # polling is the follower's decision, not the gateway's


async def test_a_server_error_on_the_stream_is_worth_a_reconnect(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    fal.faults.server_error_next = 1
    with pytest.raises(StreamBroken) as caught:
        async for _ in gateway.watch(request_id):
            pass
    assert caught.value.retry is True and "HTTP 500" in caught.value.reason


async def test_streams_beyond_the_cap_are_refused_before_anything_is_sent(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str
) -> None:
    gateway.max_streams = 1
    fal.pause()
    first_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    second_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    first = gateway.watch(first_id)
    assert (await anext(first)).state == "IN_QUEUE"
    assert gateway.streams_open == 1
    with pytest.raises(StreamBusy):
        await anext(gateway.watch(second_id))
    assert fal.stream_requests == 1
    await first.aclose()  # type: ignore[attr-defined]
    assert gateway.streams_open == 0
    fal.resume()
    assert [s.state async for s in gateway.watch(second_id)][-1] == "COMPLETED"


def _entry(n: int) -> dict[str, str]:
    return {"message": f"line {n}", "timestamp": f"2026-01-01T00:00:0{n}Z"}


def test_log_tail_reads_cumulative_and_incremental_events_alike() -> None:
    cumulative, incremental = _LogTail(), _LogTail()
    for upto in range(1, 6):
        cumulative.add([_entry(n) for n in range(1, upto + 1)])
        incremental.add([_entry(upto)])
        assert cumulative.lines() == incremental.lines()
    assert cumulative.lines() == tuple(f"line {n}" for n in range(1, 6))
    cumulative.add(None)  # an event without logs changes nothing
    assert len(cumulative.lines()) == 5


async def test_streams_through_one_gateway_share_one_session_and_its_connection(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, connections: dict[str, int]
) -> None:
    for _ in range(3):
        request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
        fal.finish(request_id)
        assert [s.state async for s in gateway.watch(request_id)][-1] == "COMPLETED"
        result = await gateway.result(request_id)  # the result rides the same session
        assert "video" in result.payload and result.billable_units == "1"
    # One session, one TLS handshake: each finished stream and result put the connection back.
    assert connections == {"sessions": 1, "opened": 1, "reused": 5}
    assert (fal.stream_requests, fal.status_requests) == (3, 0)


async def test_a_stream_cut_mid_way_raises_stream_broken_and_its_connection_is_dropped(
    gateway: FalGateway, fal: SimulatedFal, sheet_url: str, connections: dict[str, int]
) -> None:
    fal.pause()
    request_id = await gateway.submit(arguments(sheet_url), webhook_url=None)
    fal.faults.drop_stream_next = 1
    statuses = gateway.watch(request_id)
    assert (await anext(statuses)).state == "IN_QUEUE"
    with pytest.raises(StreamBroken) as caught:
        await anext(statuses)
    assert caught.value.retry and "stream broke" in caught.value.reason
    assert gateway.streams_open == 0
    fal.resume()
    fal.finish(request_id)
    assert [s.state async for s in gateway.watch(request_id)][-1] == "COMPLETED"
    # The cut connection was not put back in the pool: the reconnect opened a fresh one.
    assert connections == {"sessions": 1, "opened": 2, "reused": 0}
