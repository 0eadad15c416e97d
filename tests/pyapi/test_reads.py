"""`workspace.open` and friends, run as real users' own processes against the real daemon.

Locally the daemon passes the object's fd after its checks: the reader gets a
read-only file it cannot write, chmod or relink, and the read is audited.
Remotely (a token over TCP), or on request, the bytes are streamed.
"""

from __future__ import annotations

import json

from tests.pyapi.conftest import BLOB, CSV_V1, CSV_V2, World

READ_BOTH = """
import json, os, workspace
with workspace.open("vision/cats@2", "labels.csv", mode="r") as f:
    text = f.read()
    fd = f.fileno()
    st = os.fstat(fd)
    try:
        open(f"/proc/self/fd/{fd}", "r+b")
        reopened = "writable"
    except PermissionError:
        reopened = "refused"
    try:
        os.fchmod(fd, 0o666)
        chmod = "allowed"
    except PermissionError:
        chmod = "refused"
print(json.dumps({"text": text, "latest": workspace.read_text("vision/cats", "labels.csv"),
                  "uid": st.st_uid, "mode": st.st_mode & 0o777, "reopen": reopened,
                  "chmod": chmod}))
"""


def test_a_local_read_gets_a_read_only_fd_and_is_audited(world: World) -> None:
    out = json.loads(world.python("bob", READ_BOTH).stdout)
    assert (out["text"], out["latest"]) == (CSV_V1, CSV_V2)
    assert out["uid"] == world.team.people["alice"].uid and out["mode"] == 0o444
    assert (out["reopen"], out["chmod"]) == ("refused", "refused")
    reads = _reads(world, "bob")
    assert {(e["version"], e["path"], e["detail"]["how"]) for e in reads} >= {
        (2, "labels.csv", "fd"), (3, "labels.csv", "fd")}


def test_reading_needs_read_permission_and_a_refusal_is_audited(world: World) -> None:
    code = ("import workspace\ntry:\n    workspace.read_bytes('vision/cats', 'labels.csv')\n"
            "except workspace.errors.PermissionDenied as exc:\n    print('refused:', exc)\n")
    assert "refused: " in world.python("carol", code).stdout
    denials = world.team.ws_json("alice", "audit", "--action", "access:request:deny",
                                 "--user", world.team.people["carol"].name)["events"]
    assert denials and denials[0]["detail"]["resource"] == "vision/cats"


STREAMED = """
import hashlib, json, workspace
with workspace.open("vision/cats@2", "blob.bin", transport="stream") as f:
    whole = hashlib.sha256(f.read()).hexdigest()
    f.seek(-1000, 2)
    tail = f.read().hex()
    f.seek(5)
    head = f.read(3).hex()
print(json.dumps({"whole": whole, "tail": tail, "head": head}))
"""


def test_a_streamed_read_is_whole_seekable_and_audited_with_its_range(world: World) -> None:
    import hashlib

    out = json.loads(world.python("bob", STREAMED).stdout)
    assert out["whole"] == hashlib.sha256(BLOB).hexdigest()
    assert bytes.fromhex(out["tail"]) == BLOB[-1000:] and bytes.fromhex(out["head"]) == BLOB[5:8]
    streamed = [e for e in _reads(world, "bob") if e["detail"]["how"] == "stream"]
    ranges = {tuple(e["detail"].get("range") or ()) for e in streamed}
    assert () in ranges and (len(BLOB) - 1000, len(BLOB) - 1) in ranges


def test_a_remote_reader_with_a_token_gets_a_stream(world: World) -> None:
    token = world.team.ws("alice", "token", "create", world.team.people["bob"].name,
                          "--name", "pyapi").stdout.split()[-1]
    env = {"WORKSPACE_SERVER": world.tcp, "WORKSPACE_TOKEN": token}
    code = "import workspace; print(workspace.read_text('vision/cats@3', 'labels.csv'), end='')"
    assert world.python("bob", code, env=env).stdout == CSV_V2
    last = _reads(world, "bob")[0]
    assert (last["version"], last["detail"]["how"]) == (3, "stream")


TICKET = """
import json, os, sys
from workspace.client.connect import connect
with connect() as client:
    print(json.dumps(client.post("/v1/files/open", {"ref": "vision/cats@2", "path": "blob.bin"})))
"""
REDEEM = """
import json, os, sys, workspace.errors
from workspace.client import fdpass
offer = json.loads(sys.argv[1])["fd"]
try:
    fd = fdpass.receive(offer["socket"], offer["ticket"], daemon_uid=int(sys.argv[2]))
    print("got", len(os.read(fd, 10)))
except workspace.errors.WorkspaceError as exc:
    print(type(exc).__name__, exc)
"""


def test_a_ticket_works_once_and_only_for_the_user_it_was_issued_to(world: World) -> None:
    offer = world.python("bob", TICKET).stdout
    alice_uid = str(world.team.people["alice"].uid)
    stolen = world.python("carol", f"import sys; sys.argv[1:] = {[offer, alice_uid]!r}\n"
                          + REDEEM).stdout
    assert stolen.startswith("PermissionDenied") and "another user" in stolen
    again = world.python("bob", f"import sys; sys.argv[1:] = {[offer, alice_uid]!r}\n"
                         + REDEEM).stdout
    assert again.startswith("NotFound")  # a ticket is gone once anyone presented it
    fresh = world.python("bob", TICKET).stdout
    mine = world.python("bob", f"import sys; sys.argv[1:] = {[fresh, alice_uid]!r}\n"
                        + REDEEM).stdout
    assert mine.strip() == "got 10"


def _reads(world: World, who: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = world.team.ws_json(
        "alice", "audit", "--action", "dataset:file:read",
        "--user", world.team.people[who].name)["events"]
    return events
