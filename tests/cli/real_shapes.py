"""The shapes of the real daemon's answers, so that the CLI tests' fake cannot drift from them.

``real_shapes.json`` holds, per route, the shape of what a real daemon
answered (recorded by ``test_fake_contract.py``, which fails when the daemon's
answers change and the file was not refreshed). The fake daemon checks every
canned answer against it before serving it: a key the daemon does not send, a
key it always sends left out, a value of another type, or a digest, object id
or time in another format than the daemon writes (``b3:...`` where it writes
``sha256:...``) fails the test that wrote the canned answer.

A shape is a scalar kind (``str``, ``int``, ``float``, ``bool``, ``digest``,
``oid``, ``time``; ``null`` matches anything, as the sample did not say), a
dict of shapes, ``[shape]`` for a list (``[]``: elements unknown), ``"any"``
for open maps (audit details), ``{"*": shape}`` for maps keyed by version
number, or ``{"oneof": [...]}`` when one route answers
in several forms (a dataset's log, a file's, a directory's).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SHAPES_FILE = Path(__file__).with_name("real_shapes.json")
OPEN = frozenset({"detail", "details"})
"""Keys whose values are open maps: their inner keys vary with the event or the error."""
OPTIONAL = frozenset({"watched", "scanned", "reason", "hint", "details"})
"""Keys the daemon sends only sometimes (the watcher's fields when it is on; an error's
hint and details): a canned answer may leave them out."""

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_OID = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)")


def shape_of(value: Any, key: str = "") -> Any:
    if key in OPEN:
        return "any"
    if isinstance(value, dict) and value and all(k.isdigit() for k in value):
        return {"*": merge([shape_of(v) for v in value.values()])}  # keyed by version number
    if isinstance(value, dict):
        return {k: shape_of(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [merge([shape_of(item, key) for item in value])] if value else []
    return _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "int" if isinstance(value, int) else "float"
    text = str(value)
    for name, pattern in (("digest", _DIGEST), ("oid", _OID), ("time", _TIME)):
        if pattern.fullmatch(text):
            return name
    return "str"


def merge(shapes: list[Any]) -> Any:
    """One shape for several samples (the elements of a list): distinct ones become oneof."""
    distinct: list[Any] = []
    for shape in shapes:
        if shape not in distinct:
            distinct.append(shape)
    return distinct[0] if len(distinct) == 1 else {"oneof": distinct}


def problems(value: Any, shape: Any, where: str = "$") -> list[str]:
    """Why ``value`` does not have ``shape`` (empty: it does)."""
    if shape in ("any", "null") or value is None:
        return []
    if isinstance(shape, dict) and "oneof" in shape:
        found = [problems(value, alternative, where) for alternative in shape["oneof"]]
        return [] if any(not p for p in found) else min(found, key=len)
    if isinstance(shape, dict):
        return _dict_problems(value, shape, where)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: a list in the real answer, here {type(value).__name__}"]
        return [p for i, item in enumerate(value) if shape for p in
                problems(item, shape[0], f"{where}[{i}]")]
    kind = _scalar(value)
    if kind == shape or (kind == "int" and shape == "float"):
        return []
    return [f"{where}: the daemon sends {shape}, here {kind} ({value!r})"]


def _dict_problems(value: Any, shape: dict[str, Any], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: an object in the real answer, here {type(value).__name__}"]
    if list(shape) == ["*"]:
        return [p for key, item in value.items() for p in
                ([] if key.isdigit() else [f"{where}.{key}: keys are version numbers"])
                + problems(item, shape["*"], f"{where}.{key}")]
    found = [f"{where}.{key}: the daemon sends no such key" for key in value if key not in shape]
    found += [f"{where}.{key}: missing (the daemon always sends it)" for key in shape
              if key not in value and key not in OPTIONAL]
    for key in value.keys() & shape.keys():
        found += problems(value[key], shape[key], f"{where}.{key}")
    return found


def same(a: Any, b: Any) -> bool:
    """Two recorded shapes agree; ``null`` (a value the sample left empty) agrees with any."""
    if a == b or "null" in (a, b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return False


def load() -> dict[str, Any]:
    shapes: dict[str, Any] = json.loads(SHAPES_FILE.read_text())
    return shapes


def check(route: str, value: Any) -> None:
    """Refuse a canned answer the real daemon would never give (AssertionError)."""
    shapes = load()
    assert route in shapes, f"no real answer recorded for {route}: add it to test_fake_contract"
    found = problems(value, shapes[route])
    assert not found, f"canned answer for {route} differs from the real daemon's:\n" + \
        "\n".join(found)
