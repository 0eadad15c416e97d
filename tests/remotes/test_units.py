"""The pieces under push and pull, without a daemon: URLs, the file:// backend, the layout,
and the store refusing received bytes that do not hash to the id they claim."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workspace.datasets.manifest import ManifestEntry
from workspace.errors import InvalidInput, StoreCorrupt
from workspace.remotes import layout
from workspace.remotes.files import FileBackend
from workspace.remotes.url import parse_url
from workspace.store import ObjectStore, hash_bytes


@pytest.mark.parametrize(("text", "canonical"), [
    ("s3://team-data", "s3://team-data"),
    ("s3://team-data/ws/backup/", "s3://team-data/ws/backup"),
    ("file:///mnt/nfs//backup/", "file:///mnt/nfs/backup"),
    ("file://localhost/srv/x", "file:///srv/x"),
])
def test_urls_are_normalised(text: str, canonical: str) -> None:
    assert parse_url(text).text == canonical


@pytest.mark.parametrize("text", [
    "s3://AKIA:secret@bucket/x", "s3://bucket/x?token=1", "http://bucket/x", "s3://B/x",
    "s3://bucket/a/../b", "file://server/share", "file://relative", "file:///",
])
def test_bad_urls_are_refused_without_echoing_secrets(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_url(text)
    assert "secret" not in refused.value.message


def test_file_backend_writes_complete_values_and_create_only_never_overwrites(
        tmp_path: Path) -> None:
    backend = FileBackend(parse_url(f"file://{tmp_path}/remote"))
    assert backend.put_bytes("datasets/a/_versions/00000001.json.gz", b"one", create_only=True)
    assert not backend.put_bytes("datasets/a/_versions/00000001.json.gz", b"two",
                                 create_only=True)
    assert backend.get_bytes("datasets/a/_versions/00000001.json.gz") == b"one"
    backend.put_stream("objects/ab/cd", iter([b"x" * 10, b"y" * 5]), 15)
    assert backend.get_ranges("objects/ab/cd", [(8, 4), (0, 1)]) == [b"xxyy", b"x"]
    assert sorted(backend.list("objects/")) == [("objects/ab/cd", 15)]
    assert backend.get_bytes("objects/zz/none") is None
    assert not list((tmp_path / "remote" / ".tmp").iterdir())


def test_a_file_remote_whose_parent_is_missing_is_refused(tmp_path: Path) -> None:
    from workspace.errors import NotFound

    backend = FileBackend(parse_url(f"file://{tmp_path}/not-mounted/remote"))
    with pytest.raises(NotFound, match="mount"):
        list(backend.list("objects/"))
    with pytest.raises(NotFound):
        backend.put_bytes("workspace-remote.json", b"{}")
    assert not (tmp_path / "not-mounted").exists()


def test_a_failed_stream_leaves_no_key(tmp_path: Path) -> None:
    backend = FileBackend(parse_url(f"file://{tmp_path}/remote"))

    def broken() -> object:
        yield b"partial"
        raise StoreCorrupt("the source went bad")

    with pytest.raises(StoreCorrupt):
        backend.put_stream("objects/ab/cd", broken(), 100)  # type: ignore[arg-type]
    assert backend.get_bytes("objects/ab/cd") is None


def test_version_records_round_trip_and_keys_parse() -> None:
    entry = ManifestEntry("a.txt", "0" * 64, 3, False)
    record = layout.VersionRecord("vision/cats", "dir", 7, "alice",
                                  datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
                                  "msg", "sha256:x", None, (entry,))
    back = layout.VersionRecord.decode(record.encode(), "k")
    assert back == record and back.identity() == record.identity()
    assert layout.parse_version_key(layout.version_key("vision/cats", 7)) == ("vision/cats", 7)
    assert layout.parse_version_key("datasets/vision/cats/_tags.json") is None
    with pytest.raises(StoreCorrupt):
        layout.VersionRecord.decode(b"not gzip", "datasets/x/_versions/00000001.json.gz")


def test_the_store_publishes_received_bytes_only_if_they_hash_to_the_id(
        tmp_path: Path) -> None:
    good, bad = os.urandom(5000), os.urandom(5000)
    with ObjectStore.open(tmp_path / "store") as store:
        with pytest.raises(StoreCorrupt), store.batch() as batch:
            batch.ingest_verified(iter([bad]), expect=hash_bytes(good), size=5000)
        assert not store.exists(hash_bytes(good)) and not store.exists(hash_bytes(bad))
        assert not os.listdir(tmp_path / "store" / "tmp")
        with store.batch() as batch:
            batch.ingest_verified(iter([good[:10], good[10:]]), expect=hash_bytes(good),
                                  size=5000)
        assert store.verify(hash_bytes(good))


def test_plain_http_is_allowed_on_loopback_only() -> None:
    from workspace.remotes.backend import RemoteOptions
    from workspace.remotes.s3 import S3Backend

    url = parse_url("s3://bucket/x")
    S3Backend(url, RemoteOptions(s3_endpoint_url="http://127.0.0.1:9000"))
    S3Backend(url, RemoteOptions(s3_endpoint_url="http://[::1]:9000"))
    with pytest.raises(InvalidInput, match="in clear"):
        S3Backend(url, RemoteOptions(s3_endpoint_url="http://minio.example:9000"))
    S3Backend(url, RemoteOptions(s3_endpoint_url="http://minio.example:9000",
                                 s3_allow_http=True))
