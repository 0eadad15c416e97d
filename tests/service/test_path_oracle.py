"""`POST /v1/workspaces` is no oracle: the daemon sees more than its callers and tells none of it.

The daemon (``wst-svc``) may search bob's 0700 home (the ACL bob's `ws init`
granted) and its own 0700 store. alice, who may see neither, asks it to
register paths there and elsewhere; every answer is the same bytes but for
the path echoed, so she learns nothing about existence, kind or owner (nor
whether an object's fan-out directory, i.e. some content, is stored).
"""

from __future__ import annotations

import json

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, run_python, store_objects

pytestmark = needs_root

_REGISTER = r"""
import http.client, json, socket, sys
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
answers = []
for path in sys.argv[2:]:
    connection = Unix("ws")
    connection.request("POST", "/v1/workspaces", body=json.dumps({"path": path}),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answers.append([response.status, response.read().decode()])
    connection.close()
print(json.dumps(answers))
"""


def test_unusable_paths_all_get_the_same_answer(runtime: Runtime, service: ServiceDaemon,
                                                alice_user: Identity, bob: Identity) -> None:
    bob_project = home_of(runtime, bob)
    init = service.ws("init", cwd=bob_project, user=bob).stdout
    assert "1 directory, 0 files" in init  # not "1 directories"
    (bob_project / "data").mkdir()  # the ACL's default entries let the daemon in
    (bob_project / "data" / "secret.csv").write_text("s\n")
    give(bob_project, bob)
    service.ws("add", "data", "-d", "bob/secret", "-m", "m", cwd=bob_project, user=bob)
    fanouts = {oid[:2] for oid in store_objects(service.store)}
    missing = next(f"{n:02x}" for n in range(256) if f"{n:02x}" not in fanouts)
    public = runtime.make_dir(bob, "bob-public")
    (public / "file.txt").write_text("x")
    objects = service.store / "objects"
    probes = {
        "nonexistent": runtime.scratch / "no-such-directory",
        "a file": public / "file.txt",
        "another user's directory": public,
        "a directory in bob's 0700 home": bob_project,
        "a file in bob's 0700 home": bob_project / "data" / "secret.csv",
        "nothing in bob's 0700 home": bob_project / "nothing",
        "an object's fan-out directory": objects / sorted(fanouts)[0],
        "a missing fan-out directory": objects / missing,
        "the store": service.store,
    }
    out = run_python(runtime, alice_user, _REGISTER, str(service.socket),
                     *(str(path) for path in probes.values())).stdout
    answers = {name: (status, body.replace(str(path), "PATH"))
               for (name, path), (status, body) in zip(probes.items(), json.loads(out),
                                                       strict=True)}
    assert len(set(answers.values())) == 1, json.dumps(answers, indent=1)
    status, body = answers["nonexistent"]
    assert status == 403
    assert json.loads(body)["error"]["message"] == (
        "cannot register PATH: it is not a directory of yours that the daemon can reach")


def test_the_cli_explains_mistakes_from_your_own_view(runtime: Runtime, service: ServiceDaemon,
                                                      alice_user: Identity, bob: Identity) -> None:
    """What alice can see herself, `ws init` tells her before asking the daemon."""
    mine = runtime.make_dir(alice_user, "alice-mistakes")
    (mine / "file.txt").write_text("x")
    give(mine, alice_user)
    theirs = runtime.make_dir(bob, "bob-open")
    for target, code, message in (
            (mine / "absent", 3, "does not exist"),
            (mine / "file.txt", 2, "is not a directory"),
            (theirs, 4, f"belongs to uid {bob.uid}, not to you")):
        proc = service.ws("init", str(target), cwd=mine, user=alice_user, check=False)
        assert proc.returncode == code, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr


def test_your_own_directory_still_registers(runtime: Runtime, service: ServiceDaemon,
                                            alice_user: Identity) -> None:
    project = home_of(runtime, alice_user)
    assert "registered workspace" in service.ws("init", cwd=project, user=alice_user).stdout
