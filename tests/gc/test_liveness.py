"""An entry's object is referenced while some version of its range is kept."""

from __future__ import annotations

from workspace.maintenance.references import Liveness


def test_nothing_pruned_means_every_entry_is_live() -> None:
    assert Liveness({}, {1: 5}).live(1, 2, None)


def test_an_entry_dies_only_when_every_version_of_its_range_is_pruned() -> None:
    liveness = Liveness({1: [2, 3, 4]}, {1: 6})
    assert not liveness.live(1, 2, 5)      # versions 2-4, all pruned
    assert liveness.live(1, 2, 6)          # 5 is kept
    assert liveness.live(1, 1, 3)          # 1 is kept
    assert liveness.live(1, 5, None)       # live up to the latest (6), kept
    assert not Liveness({1: [5, 6]}, {1: 6}).live(1, 5, None)


def test_a_stale_snapshot_errs_on_the_side_of_keeping() -> None:
    """Entries newer than the snapshot's latest version count as live."""
    liveness = Liveness({1: [1, 2]}, {1: 2})
    assert liveness.live(1, 3, None)
    assert liveness.kept_numbers(1, 1, None) == []
    assert liveness.datasets_with_pruned() == {1}
