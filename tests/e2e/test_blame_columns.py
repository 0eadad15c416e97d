"""`GET /v1/blame` of the real daemon: the whole answer, or (``oids=false``, what the
table of `ws blame` asks for) the same answer without the ``oids`` column."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.daemon import Daemon, give
from tests.support.runtime import Runtime
from tests.support.service import run_python

_ASK = r"""
import json, sys
import httpx
client = httpx.Client(transport=httpx.HTTPTransport(uds=sys.argv[1]), base_url="http://ws")
print(json.dumps([client.get("/v1/blame", params=query).json()
                  for query in ({"ref": "vision/cats", "oids": "false"}, {"ref": "vision/cats"})]))
"""


def test_the_daemon_leaves_oids_out_when_asked(sqlite_daemon: Daemon, runtime: Runtime,
                                                tmp_path: Path) -> None:
    project = runtime.make_dir(sqlite_daemon.owner, "project")
    (project / "data" / "sub").mkdir(parents=True)
    (project / "data" / "a.csv").write_text("a,1\n")
    (project / "data" / "sub" / "b.csv").write_text("b,2\n")
    give(project, sqlite_daemon.owner)
    sqlite_daemon.ws("init", cwd=project)
    sqlite_daemon.ws("add", "data", "-d", "vision/cats", "-m", "first", cwd=project)
    lean, whole = json.loads(run_python(runtime, sqlite_daemon.owner, _ASK,
                                        str(sqlite_daemon.socket)).stdout)
    assert whole["paths"] == ["a.csv", "sub/b.csv"] and len(whole["oids"]) == 2
    assert lean == {key: value for key, value in whole.items() if key != "oids"}
    table = sqlite_daemon.ws("blame", "vision/cats", cwd=project).stdout
    assert [line.split()[0] for line in table.splitlines()[2:]] == ["a.csv", "sub/b.csv"]
