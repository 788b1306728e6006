"""A run defers Python's cyclic collector, and the process gets its own setting back."""

from __future__ import annotations

import gc
import threading

from sluice.copy.memory import YOUNG_THRESHOLD, deferred_collections


def test_nested_and_concurrent_runs_restore_the_setting_once_the_last_ends():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    inside = threading.Event()
    leave = threading.Event()

    def other_run() -> None:
        with deferred_collections():
            inside.set()
            leave.wait(10)

    with deferred_collections():
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
        assert gc.get_freeze_count() > frozen  # what the process held is out of collections
        worker = threading.Thread(target=other_run)
        worker.start()
        assert inside.wait(10)
        with deferred_collections():  # nested
            pass
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    # the other run still goes: still deferred
    assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    leave.set()
    worker.join(10)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() <= frozen  # unfrozen again


def test_a_failing_run_restores_the_setting_too():
    before = gc.get_threshold()
    try:
        with deferred_collections():
            raise RuntimeError("a chunk failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_a_process_that_froze_objects_of_its_own_keeps_them_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with deferred_collections():
            pass
        # still frozen (a frozen object freed meanwhile leaves the count, nothing else does)
        assert gc.get_freeze_count() > frozen - 100
    finally:
        gc.unfreeze()
