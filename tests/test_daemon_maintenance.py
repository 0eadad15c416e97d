"""The daemon's maintenance thread: jobs run on their interval, a failing job is logged and
does not stop the others, and final steps run at stop."""

from __future__ import annotations

import logging
import threading

import pytest

from workspace.daemon_maintenance import Job, maintaining


def test_jobs_run_on_their_interval_and_a_failure_stops_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    runs: list[str] = []
    twice = threading.Event()

    def count() -> None:
        runs.append("count")
        if runs.count("count") >= 2:
            twice.set()

    def fail() -> None:
        raise OSError("disk on fire")

    jobs = [Job("count", 0.01, count, final=lambda: runs.append("final")),
            Job("fail", 0.01, fail)]
    with caplog.at_level(logging.ERROR, "workspace.daemon"), maintaining(jobs):
        assert twice.wait(30), "the counting job never ran twice"
    assert runs[-1] == "final" and runs.count("final") == 1
    assert "maintenance job fail failed" in caplog.text and "disk on fire" in caplog.text
