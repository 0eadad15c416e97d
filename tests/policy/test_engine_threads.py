"""Casbin from many threads at once: Python 3.11's ``ast`` cannot parse in two threads.

Each engine has its own rules, so nothing but the interpreter is shared; with
the GIL switched every microsecond, evaluating matchers in parallel made
``ast`` fail ("AST constructor recursion depth mismatch", CPython gh-106905)
within a second, and the daemon denied that request with an internal error.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.runtime import REPO
from workspace.policy.engine import Engine


@pytest.fixture
def eager_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_engines_of_different_subjects_evaluate_in_parallel_threads(
        eager_switching: None) -> None:
    model = (REPO / "policies" / "model.conf").read_text()
    engines = [Engine(model, [(f"u{i}", "vision/*", "read", "allow")], []) for i in range(8)]
    errors: list[BaseException] = []
    answers: list[bool] = []

    def check(index: int) -> None:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not errors:
            try:
                answers.append(engines[index].enforce(f"u{index}", "vision/cats", "read")[0])
            except Exception as exc:  # the failure under test
                errors.append(exc)

    threads = [threading.Thread(target=check, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert answers and all(answers)
