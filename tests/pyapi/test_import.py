"""`import workspace` stays cheap: the Python API loads on first use, and heavy libraries
only when a call needs them (issue 12 budgets CLI start-up; this checks modules, not time)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("httpx", "pydantic", "fastapi", "typer", "rich", "sqlalchemy", "fsspec", "pandas")
PROBE = """
import json, sys
start = {m.split(".")[0] for m in sys.modules}  # what the interpreter and site-packages load
import workspace
before = sorted({m.split(".")[0] for m in sys.modules} - start)
workspace.open  # the API's functions, not yet a connection
after = sorted({m.split(".")[0] for m in sys.modules} - start)
print(json.dumps({"before": before, "after": after}))
"""


def test_importing_workspace_and_its_api_loads_no_heavy_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout
    loaded = json.loads(out)
    for stage in ("before", "after"):
        assert not set(HEAVY) & set(loaded[stage]), (stage, set(HEAVY) & set(loaded[stage]))
    assert "typing" not in loaded["before"]
