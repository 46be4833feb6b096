"""The in-memory key-value store: one-time claims that expire, and no unbounded growth."""

from __future__ import annotations

from adapters.slack.keyvalue import SWEEP_EVERY, MemoryKeyValueStore


async def test_claims_are_once_until_they_expire_and_expired_keys_are_swept() -> None:
    now = [0.0]
    store = MemoryKeyValueStore(clock=lambda: now[0])
    assert await store.claim(key="a", ttl_seconds=10)
    assert not await store.claim(key="a", ttl_seconds=10)
    now[0] = 11
    assert await store.claim(key="a", ttl_seconds=10)  # expired: claimable again
    for index in range(SWEEP_EVERY):
        await store.claim(key=f"request-{index}", ttl_seconds=1)
    now[0] = 100
    await store.save(key="keep", value="1")
    for index in range(SWEEP_EVERY):
        await store.save(key="keep", value=str(index))
    assert set(store._items) == {"keep"}
    assert await store.load(key="keep") == str(SWEEP_EVERY - 1)
