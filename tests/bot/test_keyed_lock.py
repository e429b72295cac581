import asyncio

from bot.keyed_lock import KeyedLock


async def test_same_key_runs_in_arrival_order_and_other_keys_do_not_wait():
    locks, order = KeyedLock(), []
    release_first = asyncio.Event()

    async def first():
        async with locks.hold("alice"):
            order.append("alice-1 start")
            await release_first.wait()
            order.append("alice-1 end")

    async def second():
        async with locks.hold("alice"):
            order.append("alice-2")

    async def other():
        async with locks.hold("bob"):
            order.append("bob")
        release_first.set()

    await asyncio.gather(first(), second(), other())

    assert order == ["alice-1 start", "bob", "alice-1 end", "alice-2"]
    assert len(locks) == 0
