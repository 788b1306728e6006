"""The shared byte budget with real threads: a consumer that stops reading one channel never
starves another channel's producer (each channel may always hold one batch), while the
total stays bounded by the budget plus one batch per active channel."""

from __future__ import annotations

import threading

from sluice.copy.buffer import ByteBudget, Channel, ChannelClosed

BATCH = 60
CAPACITY = 100


def producer(channel: Channel, batches: int) -> threading.Thread:
    def run() -> None:
        try:
            for i in range(batches):
                channel.put(i, BATCH)
        except ChannelClosed:  # the consumer cancelled: how a reader is released
            return
        channel.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_stalled_consumer_does_not_block_another_channels_producer():
    budget = ByteBudget(CAPACITY)
    stalled, moving = Channel(budget), Channel(budget)
    stuck = producer(stalled, 3)  # nobody reads `stalled` (a writer waiting for a lock)
    stuck.join(timeout=0.5)
    assert stuck.is_alive()  # its second batch waits: the budget is spent, its channel holds one
    assert budget.used == BATCH

    got: list[int] = []
    feeding = producer(moving, 10)
    reading = threading.Thread(target=lambda: got.extend(moving), daemon=True)
    reading.start()
    reading.join(timeout=10)
    feeding.join(timeout=10)
    assert not reading.is_alive() and got == list(range(10)), got  # used to wait forever
    assert budget.peak <= CAPACITY + 2 * BATCH  # the cap plus one batch per active channel

    stalled.cancel()  # the stalled consumer gives up: its producer is released too
    stuck.join(timeout=10)
    assert not stuck.is_alive()
    assert budget.used == 0


def test_a_channel_holding_a_batch_waits_while_the_budget_is_spent():
    budget = ByteBudget(CAPACITY)
    first, second = Channel(budget), Channel(budget)
    first.put("a", BATCH)
    admitted = threading.Thread(target=lambda: second.put("b", BATCH), daemon=True)
    admitted.start()
    admitted.join(timeout=10)
    assert not admitted.is_alive()  # admitted past the cap: its channel held nothing
    assert budget.used == 2 * BATCH
    blocked = producer(first, 1)
    blocked.join(timeout=0.5)
    assert blocked.is_alive()  # `first` holds a batch and the budget is spent
    assert next(iter(second)) == "b"  # the writer of `second` takes its batch ...
    items = iter(first)
    assert next(items) == "a"
    assert next(items) == 0  # ... and once `first` is drained, its producer moves on
    blocked.join(timeout=10)
    assert not blocked.is_alive()


def test_a_batch_larger_than_the_budget_is_admitted_into_an_empty_channel():
    budget = ByteBudget(CAPACITY)
    other, channel = Channel(budget), Channel(budget)
    other.put("x", BATCH)
    huge = threading.Thread(target=lambda: channel.put("huge", 10 * CAPACITY), daemon=True)
    huge.start()
    huge.join(timeout=10)
    assert not huge.is_alive()
    assert budget.used == BATCH + 10 * CAPACITY
