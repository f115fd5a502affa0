"""ObjectStore over obstore against a real S3-compatible server (moto's server mode on 127.0.0.1).

The store conformance suite runs against it (writable and read-only), plus zarrio arrays on
it (sharded partial reads through ranged GETs), listing, deletes, pickling as configuration
(into a fresh interpreter) and typed transport errors.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from prerequisites import skip_without

import zarrio
from zarrio.errors import ObjectChangedError, ReadOnlyError, StoreError, TransportError
from zarrio.stores import Store
from zarrio.testing import CountingStore, StoreSuite

try:
    import boto3  # type: ignore[import-untyped]
    import obstore.store
    from moto.server import ThreadedMotoServer
    from obstore.store import S3Store

    from zarrio.stores.object_store import ObjectStore
except ImportError as missing:  # pragma: no cover - depends on the environment
    skip_without("the obstore extra or moto[server]", missing)

CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}
BUCKET = "zarrio-tests"


class S3Server:
    """A moto S3 server on 127.0.0.1 and the settings obstore needs to reach it."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=CREDENTIALS["access_key_id"],
            aws_secret_access_key=CREDENTIALS["secret_access_key"],
            region_name=CREDENTIALS["region"],
        )
        client.create_bucket(Bucket=BUCKET)

    def backend(self, prefix: str | None = None, **options: Any) -> S3Store:
        return S3Store(
            BUCKET,
            prefix=prefix,
            endpoint=self.endpoint,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
            **CREDENTIALS,  # type: ignore[arg-type]
            **options,
        )

    def store(self, *, read_only: bool = False) -> ObjectStore:
        """An empty store: a fresh prefix in the shared bucket."""
        return ObjectStore(self.backend(f"t-{uuid.uuid4().hex}"), read_only=read_only)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


# ---------------------------------------------------------------- the conformance suite
class TestObjectStoreS3(StoreSuite):
    @pytest.fixture(autouse=True)
    def _server(self, s3: S3Server) -> None:
        self.s3 = s3

    def make_store(self) -> Store:
        return self.s3.store()


class TestObjectStoreS3ReadOnly(StoreSuite):
    @pytest.fixture(autouse=True)
    def _server(self, s3: S3Server) -> None:
        self.s3 = s3

    async def populate(self, items: Mapping[str, bytes]) -> Store:
        writer = self.s3.store()
        for key, value in items.items():
            await writer.set(key, value)
        return ObjectStore(writer.backend, read_only=True)


class TestObjectStoreObstoreMemory(StoreSuite):
    def make_store(self) -> Store:
        return ObjectStore(obstore.store.MemoryStore())


# ---------------------------------------------------------------- arrays on S3
def test_array_round_trip_listing_and_delete(s3: S3Server) -> None:
    store = s3.store()
    data = np.arange(24 * 30, dtype="int32").reshape(24, 30)
    zarrio.create_group(store, attributes={"kind": "demo"})
    z = zarrio.create(store, data.shape, "int32", path="grid/values", chunks=(8, 10))
    z[...] = data
    opened = zarrio.open(store, path="grid/values")
    assert isinstance(opened, zarrio.Array)
    np.testing.assert_array_equal(opened[...], data)
    np.testing.assert_array_equal(opened[3:17:2, [0, 29, 5]], data[3:17:2][:, [0, 29, 5]])
    assert opened.nchunks_stored() == 9
    root = zarrio.open_group(store)
    assert root.attrs["kind"] == "demo"
    assert [name for name, _ in root.members()] == ["grid"]
    zarrio.delete_node(store, "grid")
    assert sorted(zarrio.StoreView(store).list()) == ["zarr.json"]


def test_sharded_partial_reads_use_ranged_gets(s3: S3Server) -> None:
    counting = CountingStore(s3.store())
    data = np.random.default_rng(0).random((64, 64))
    z = zarrio.create(counting, data.shape, "float64", chunks=(8, 8), shards=(64, 64), codecs=[{"name": "zstd"}])
    z[...] = data
    shard_size = len(zarrio.StoreView(counting.inner).get("c/0/0") or b"")
    assert shard_size > 16 * 8 * 8 * 8  # far bigger than one inner chunk
    counting.reset()
    reopened = zarrio.open_array(counting)
    counting.reset()
    tile = reopened[8:16, 16:24]
    np.testing.assert_array_equal(tile, data[8:16, 16:24])
    assert counting.counts["get"] == 0  # never the whole shard
    assert counting.bytes_read < shard_size // 8
    assert counting.counts["get_suffix"] + counting.counts["get_partial"] + counting.counts["get_ranges"] >= 2


async def test_get_ranges_coalesces_into_few_requests(s3: S3Server) -> None:
    store = s3.store()
    value = os.urandom(100_000)
    await store.set("blob", value)
    calls: list[tuple[int, int]] = []
    original = store._read_range

    async def spy(key: str, offset: int, length: int) -> tuple[bytes, str | None] | None:
        calls.append((offset, length))
        return await original(key, offset, length)

    store._read_range = spy  # type: ignore[method-assign]
    ranges = [(0, 100), (200, 100), (1000, 50), (90_000, 10), (90_100, 10), (99_990, 50)]
    got = await store.get_ranges("blob", ranges)
    assert got == [value[o : o + n] for o, n in ranges]
    assert len(calls) == 2  # the close ranges merge; the two regions are far apart


async def test_get_ranges_refuses_mixed_versions(s3: S3Server) -> None:
    store = s3.store()
    await store.set("blob", b"a" * 300_000)
    original = store._read_range
    calls = 0
    first_read = asyncio.Event()

    async def rewrite_between_requests(key: str, offset: int, length: int) -> tuple[bytes, str | None] | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            found = await original(key, offset, length)
            first_read.set()
            return found
        await first_read.wait()  # another writer replaces the value between two of the ranged requests
        await store.set("blob", b"b" * 300_000)
        return await original(key, offset, length)

    store._read_range = rewrite_between_requests  # type: ignore[method-assign]
    with pytest.raises(ObjectChangedError, match="changed") as caught:
        await store.get_ranges("blob", [(0, 10), (200_000, 10)])
    assert caught.value.key == "blob"
    store._read_range = original  # type: ignore[method-assign]
    assert await store.get_ranges("blob", [(0, 2), (200_000, 2)]) == [b"bb", b"bb"]  # the next read sees the new value


async def test_ranged_reads_are_pinned_to_the_first_version(s3: S3Server) -> None:
    prefix = f"t-{uuid.uuid4().hex}"
    reader, writer = ObjectStore(s3.backend(prefix)), ObjectStore(s3.backend(prefix))
    await writer.set("shard", b"1" * 1000)
    assert await reader.get_suffix("shard", 10) == b"1" * 10  # like a shard index: pins the version
    await writer.set("shard", b"2" * 1000)  # another writer replaces the value
    with pytest.raises(ObjectChangedError) as caught:
        await reader.get_partial("shard", 0, 10)  # never bytes of the new version mixed with the old index
    assert caught.value.key == "shard"
    assert caught.value.location == f"s3://{BUCKET}/{prefix}/shard"
    assert await reader.get_partial("shard", 0, 10) == b"2" * 10  # unpinned: the next read sees the new value
    await reader.set("shard", b"3" * 1000)  # the store's own writes release the pin
    assert await reader.get_ranges("shard", [(0, 3), (900, 3)]) == [b"333", b"333"]


async def test_suffix_with_the_total_size_in_one_request(s3: S3Server) -> None:
    store = s3.store()
    await store.set("v", b"0123456789")
    await store.set("empty", b"")
    assert store.versioned_reads
    assert await store.get_suffix_with_size("v", 4) == (b"6789", 10)
    assert await store.get_suffix_with_size("v", 40) == (b"0123456789", 10)
    assert await store.get_suffix_with_size("v", 0) == (b"", 10)
    assert await store.get_suffix_with_size("empty", 4) == (b"", 0)
    assert await store.get_suffix_with_size("missing", 4) is None


def test_a_shard_replaced_between_index_and_chunks_is_read_again(s3: S3Server) -> None:
    prefix = f"t-{uuid.uuid4().hex}"
    reader, writer = ObjectStore(s3.backend(prefix)), ObjectStore(s3.backend(prefix))
    first = np.arange(32 * 32, dtype="int32").reshape(32, 32)
    zarrio.create(writer, first.shape, "int32", chunks=(8, 8), shards=(32, 32))[...] = first
    z = zarrio.open_array(reader)
    np.testing.assert_array_equal(z[0:8, 0:8], first[0:8, 0:8])  # pins the shard's version
    zarrio.open_array(writer)[...] = first * 10
    np.testing.assert_array_equal(z[8:16, 8:16], first[8:16, 8:16] * 10)  # the engine re-reads the new shard


async def test_erase_prefix_removes_many_keys(s3: S3Server) -> None:
    store = s3.store()
    for i in range(30):
        await store.set(f"a/{i}", b"x")
    await store.set("ab", b"keep")
    await store.erase_prefix("a/")
    assert await store.list() == ["ab"]


# ---------------------------------------------------------------- configuration, pickling, errors
async def test_read_only_store_refuses_writes(s3: S3Server) -> None:
    store = s3.store(read_only=True)
    with pytest.raises(ReadOnlyError):
        await store.set("k", b"v")
    with pytest.raises(ReadOnlyError):
        zarrio.create(store, 3, "int8")


def test_pickle_is_configuration_and_one_instance_per_process(s3: S3Server) -> None:
    store = s3.store()
    zarrio.create(store, 4, "int16", path="p")[...] = np.arange(4, dtype="int16")
    assert pickle.loads(pickle.dumps(store)) is store  # same process: the same instance (one request limit)
    payload = pickle.dumps(zarrio.open_array(store, path="p"))
    code = (
        "import pickle, sys\n"
        "a = pickle.loads(sys.stdin.buffer.read())\n"
        "b = pickle.loads(pickle.dumps(a))\n"
        "assert a.store.store is b.store.store\n"
        "print(a[...].tolist(), type(a.store.store).__name__, a.store.store.read_only)\n"
    )
    # faulthandler: a child that dies of a signal prints every thread's stack (one aborted at its exit,
    # exit -6 with nothing on stderr, on 3.13: an obstore thread ended during finalization; see
    # zarrio.portal._at_exit and tests/test_facade.py)
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], input=payload, capture_output=True, timeout=60, check=False, env=env
    )
    assert done.returncode == 0, done.stderr.decode()[-4000:]
    assert done.stdout.decode().split() == ["[0,", "1,", "2,", "3]", "ObjectStore", "False"]


def _get_in_child(store: ObjectStore, results: Any) -> None:
    try:
        zarrio.StoreView(store).get("k")
        results.put("no error")
    except StoreError as error:
        results.put(f"{type(error).__name__}: {error}")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_gets_an_error_not_a_hang(s3: S3Server) -> None:
    import multiprocessing
    import warnings

    store = s3.store()
    zarrio.StoreView(store).set("k", b"v")  # obstore's runtime now runs in this process
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: fork of a multi-threaded process
        child = context.Process(target=_get_in_child, args=(store, results))
        child.start()
    try:
        outcome = results.get(timeout=30)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert outcome.startswith("StoreError: obstore cannot be used in a process forked"), outcome
    assert zarrio.StoreView(store).get("k") == b"v"  # the parent is unaffected


credential_requests: list[datetime] = []


def rotating_credentials() -> dict[str, Any]:
    """An obstore credential provider (module level, so a store using it pickles)."""
    credential_requests.append(datetime.now(UTC))
    return {
        "access_key_id": CREDENTIALS["access_key_id"],
        "secret_access_key": CREDENTIALS["secret_access_key"],
        "token": None,
        "expires_at": datetime.now(UTC) + timedelta(minutes=5),
    }


def test_credentials_from_a_provider(s3: S3Server) -> None:
    backend = S3Store(
        BUCKET,
        prefix=f"t-{uuid.uuid4().hex}",
        endpoint=s3.endpoint,
        region=CREDENTIALS["region"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
        credential_provider=rotating_credentials,  # type: ignore[arg-type]
    )
    store = ObjectStore(backend)
    before = len(credential_requests)
    z = zarrio.create(store, (3,), "float64")
    z[...] = [1.0, 2.0, 3.0]
    assert len(credential_requests) > before  # obstore asked the provider for credentials
    clone = pickle.loads(pickle.dumps(store, protocol=pickle.HIGHEST_PROTOCOL))
    assert clone.backend.credential_provider is rotating_credentials


def test_repr_and_url_name_the_bucket(s3: S3Server) -> None:
    store = ObjectStore(s3.backend("some/prefix"), read_only=True)
    assert store.url == f"s3://{BUCKET}/some/prefix"
    assert repr(store) == f"ObjectStore('s3://{BUCKET}/some/prefix', read_only=True)"


async def test_unreachable_endpoint_is_a_transport_error() -> None:
    backend = S3Store(
        BUCKET,
        endpoint="http://127.0.0.1:9",  # discard port: nothing listens
        virtual_hosted_style_request=False,
        client_options={"allow_http": True, "connect_timeout": "1s"},
        retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=1)},
        **CREDENTIALS,  # type: ignore[arg-type]
    )
    store = ObjectStore(backend)
    with pytest.raises(TransportError) as caught:
        await store.get("a/zarr.json")
    assert caught.value.key == "a/zarr.json"
    assert caught.value.location == f"s3://{BUCKET}/a/zarr.json"
    assert caught.value.__cause__ is not None
    with pytest.raises(TransportError):
        await store.set("k", b"v")
    with pytest.raises(TransportError):
        await store.list()


def test_from_url_and_bad_url() -> None:
    store = ObjectStore.from_url("memory:///")
    zarrio.create(store, 5, "int32")[...] = np.arange(5, dtype="int32")
    np.testing.assert_array_equal(zarrio.open_array(store)[...], np.arange(5, dtype="int32"))
    with pytest.raises(StoreError) as caught:
        ObjectStore.from_url("nosuchscheme://x/y")
    assert caught.value.location == "nosuchscheme://x/y"


def test_lazy_export() -> None:
    import zarrio.stores

    assert zarrio.stores.ObjectStore is ObjectStore


def test_xarray_opens_an_s3_url_through_obstore(s3: S3Server) -> None:
    xr = pytest.importorskip("xarray", reason="the xarray extra is not installed")
    prefix = f"t-{uuid.uuid4().hex}/weather.zarr"
    store = ObjectStore(s3.backend(prefix))
    zarrio.create_group(store, attributes={"title": "on S3"})
    zarrio.create(store, (4,), "float64", path="x", dimension_names=["x"])[...] = [0.0, 1.0, 2.0, 3.0]
    packed = zarrio.create(store, (4,), "int16", path="t", dimension_names=["x"], attributes={"scale_factor": 0.5})
    packed[...] = [2, 4, 6, 8]
    options = {
        "endpoint": s3.endpoint,
        "virtual_hosted_style_request": False,
        "client_options": {"allow_http": True},
        **CREDENTIALS,
    }
    ds = xr.open_dataset(f"s3://{BUCKET}/{prefix}", engine="zarrio", storage_options=options)
    assert ds.attrs == {"title": "on S3"}
    assert ds["t"].values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert ds["x"].values.tolist() == [0.0, 1.0, 2.0, 3.0]
