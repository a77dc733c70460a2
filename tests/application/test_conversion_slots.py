"""ConversionSlots: never more holders than slots, urgent waiters first, and no slot lost
to a waiter cancelled at any moment."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from application.conversion_slots import ConversionSlots


async def _holder(
    slots: ConversionSlots, name: str, urgent: bool, order: list[str], release: asyncio.Event
) -> None:
    async with slots.taken(urgent=urgent):
        order.append(name)
        await release.wait()


async def test_urgent_waiters_go_first_each_class_in_arrival_order() -> None:
    slots, order, release = ConversionSlots(1), [], asyncio.Event()
    first = asyncio.create_task(_holder(slots, "running", False, order, release))
    await asyncio.sleep(0)
    names = [("chunk-1", False), ("note-1", True), ("chunk-2", False), ("note-2", True)]
    waiters = [asyncio.create_task(_holder(slots, n, u, order, release)) for n, u in names]
    await asyncio.sleep(0)
    assert slots.waiting == 4
    release.set()
    await asyncio.gather(first, *waiters)
    assert order == ["running", "note-1", "note-2", "chunk-1", "chunk-2"]


async def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_the_slot_on() -> None:
    slots, order, release = ConversionSlots(1), [], asyncio.Event()
    release.set()
    running = slots.taken(urgent=False)
    await running.__aenter__()
    doomed = asyncio.create_task(_holder(slots, "doomed", True, order, release))
    after = asyncio.create_task(_holder(slots, "after", False, order, release))
    await asyncio.sleep(0)
    await running.__aexit__(None, None, None)  # hands the slot to "doomed" ...
    doomed.cancel()  # ... which is cancelled before it resumes
    async with asyncio.timeout(1):  # "after" must get the slot "doomed" never used
        await asyncio.gather(doomed, after, return_exceptions=True)
    assert doomed.cancelled()
    assert order == ["after"]
    async with asyncio.timeout(1):  # the slot is free again: nothing leaked
        async with slots.taken(urgent=False):
            pass


@settings(max_examples=80, deadline=None)
@given(
    slot_count=st.integers(1, 3),
    plan=st.lists(
        st.tuples(
            st.booleans(),  # urgent
            st.integers(0, 4),  # ticks before it asks for a slot
            st.integers(0, 3),  # ticks it holds the slot
            st.sampled_from(["finish", "cancel"]),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_holders_never_exceed_the_slots_and_none_is_lost(
    slot_count: int, plan: list[tuple[bool, int, int, str]]
) -> None:
    async def scenario() -> None:
        slots = ConversionSlots(slot_count)
        inside = peak = 0

        async def convert(urgent: bool, wait: int, hold: int) -> None:
            nonlocal inside, peak
            for _ in range(wait):
                await asyncio.sleep(0)
            async with slots.taken(urgent=urgent):
                inside += 1
                peak = max(peak, inside)
                try:
                    for _ in range(hold):
                        await asyncio.sleep(0)
                finally:
                    inside -= 1

        async with asyncio.timeout(0.5):  # a lost slot would leave someone waiting forever
            tasks = [asyncio.create_task(convert(u, w, h)) for u, w, h, _ in plan]
            for (*_, fate), task in zip(plan, tasks, strict=True):
                await asyncio.sleep(0)
                if fate == "cancel":
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            assert peak <= slot_count
            assert inside == 0 and slots.waiting == 0
            holders = [slots.taken(urgent=False) for _ in range(slot_count)]
            for holder in holders:  # every slot came back
                await holder.__aenter__()
            for holder in holders:
                await holder.__aexit__(None, None, None)

    asyncio.run(scenario())
