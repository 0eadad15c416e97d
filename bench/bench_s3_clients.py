#!/usr/bin/env python3
"""obstore against boto3 on the same local S3 server: which client ``remotes/s3.py`` uses.

Run by hand (see bench/README.md). Starts ``moto_server`` on a free loopback
port, then times, for each client, in the same run on the same server:

- PUT of N small objects (4 KiB) with the client's natural concurrency
  (obstore: one asyncio loop, ``CONCURRENCY`` requests in flight; boto3: a
  thread pool of ``CONCURRENCY`` workers sharing one client, as DVC does);
- GET of the same N objects;
- PUT of one large file (multipart, 8 MiB parts) streamed from disk, and its
  GET streamed to disk, with the process's peak RSS growth.

The ratio is boto3's time over obstore's: above 1 means obstore is faster.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

CONCURRENCY = 32
PART = 8 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto(port: int) -> Iterator[None]:
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(label: str, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f}s", file=sys.stderr)
    return seconds


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def obstore_case(bucket: str, blobs: list[bytes], big: Path, out: Path) -> dict[str, float]:
    import obstore
    from obstore.store import S3Store

    store = S3Store(bucket, client_options={"allow_http": True})

    async def put_all() -> None:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int, blob: bytes) -> None:
            async with gate:
                await obstore.put_async(store, f"small/{i}", blob)

        await asyncio.gather(*(one(i, b) for i, b in enumerate(blobs)))

    async def get_all() -> None:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with gate:
                await (await obstore.get_async(store, f"small/{i}")).bytes_async()

        await asyncio.gather(*(one(i) for i in range(len(blobs))))

    def put_big() -> None:
        obstore.put(store, "big", big, chunk_size=PART, max_concurrency=8)

    def get_big() -> None:
        with out.open("wb") as sink:
            for chunk in obstore.get(store, "big").stream(min_chunk_size=PART):
                sink.write(chunk)

    return {
        "put small": timed("obstore put small", lambda: asyncio.run(put_all())),
        "get small": timed("obstore get small", lambda: asyncio.run(get_all())),
        "put big": timed("obstore put big", put_big),
        "get big": timed("obstore get big", get_big),
    }


def boto3_case(bucket: str, blobs: list[bytes], big: Path, out: Path) -> dict[str, float]:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    client = boto3.client("s3", config=Config(max_pool_connections=CONCURRENCY))
    transfer = TransferConfig(multipart_chunksize=PART, max_concurrency=8)

    def put_all() -> None:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda item: client.put_object(
                Bucket=bucket, Key=f"small/{item[0]}", Body=item[1]), enumerate(blobs)))

    def get_all() -> None:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda i: client.get_object(
                Bucket=bucket, Key=f"small/{i}")["Body"].read(), range(len(blobs))))

    return {
        "put small": timed("boto3 put small", put_all),
        "get small": timed("boto3 get small", get_all),
        "put big": timed("boto3 put big", lambda: client.upload_file(
            str(big), bucket, "big", Config=transfer)),
        "get big": timed("boto3 get big", lambda: client.download_file(
            bucket, "big", str(out), Config=transfer)),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--small", type=int, default=2000, help="number of 4 KiB objects")
    p.add_argument("--big-mib", type=int, default=512, help="size of the large object")
    a = p.parse_args()
    port = free_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ALLOW_HTTP="true")
    blobs = [os.urandom(4096) for _ in range(a.small)]
    with tempfile.TemporaryDirectory() as scratch, moto(port):
        big, out = Path(scratch) / "big", Path(scratch) / "out"
        with big.open("wb") as sink:
            for _ in range(a.big_mib):
                sink.write(os.urandom(1024 * 1024))
        import boto3

        s3 = boto3.client("s3")
        results = {}
        for name, case in (("obstore", obstore_case), ("boto3", boto3_case)):
            s3.create_bucket(Bucket=f"bench-{name}")
            before = rss_mib()
            results[name] = case(f"bench-{name}", blobs, big, out)
            results[name]["peak rss growth MiB"] = rss_mib() - before
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f} (shared with other work)")
    print(f"{'operation':<22}{'obstore':>10}{'boto3':>10}{'boto3/obstore':>15}")
    for op in results["obstore"]:
        o, b = results["obstore"][op], results["boto3"][op]
        ratio = f"{b / o:.2f}x" if o and "rss" not in op else ""
        print(f"{op:<22}{o:>10.2f}{b:>10.2f}{ratio:>15}")


if __name__ == "__main__":
    main()
