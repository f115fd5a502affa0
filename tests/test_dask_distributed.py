# mypy: disable-error-code="no-untyped-call"
"""zarrio on a real dask.distributed LocalCluster: 2 worker processes on 127.0.0.1 read an
array through zarrio (a directory store, an HTTP source served by zarrio.server, and S3 through
obstore against moto's server), compute on it, and write the result through zarrio; the values
are checked here. Arrays travel to the
workers pickled as configuration; request limits stay per process."""

from __future__ import annotations

import logging
import os
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prerequisites import skip_without

import zarrio
import zarrio.server
from zarrio.engine import executor
from zarrio.stores import HttpStore, LocalStore

try:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from zarrio.integrations.dask import from_dask, to_dask
except ImportError as missing:  # pragma: no cover - depends on the environment
    skip_without("the dask extra (dask[distributed])", missing)

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with warnings.catch_warnings():
        # distributed may warn about the machine (memory limits, ports) while starting; not our concern here
        warnings.simplefilter("ignore")
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # the scheduler serves /metrics even without a dashboard, by default on port 8787 of
            # every interface: here on a free port of 127.0.0.1 (suites on three Pythons run at once)
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=40,  # logging.ERROR
        )
        dask_client = Client(cluster, set_as_default=False)
    try:
        yield dask_client
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dask_client.close(timeout=20)
            cluster.close(timeout=20)


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A sharded float array on disk (zstd inner chunks) and its values."""
    data = np.random.default_rng(7).standard_normal((96, 80)).astype("float32")
    root = tmp_path / "source.zarr"
    z = zarrio.create(
        root, data.shape, "float32", path="temperature", chunks=(16, 20), shards=(32, 40), codecs=[{"name": "zstd"}]
    )
    z[...] = data
    zarrio.consolidate_metadata(root)
    return root, data


def _compute_and_write(client: Client, z: zarrio.Array, out: Path) -> tuple[np.ndarray, float]:
    """On the cluster: anomaly = 2*x - mean over rows, written through zarrio; also the global maximum."""
    with dask.config.set(scheduler=client.get):
        x = to_dask(z)
        anomaly = 2 * x - x.mean(axis=0, keepdims=True)
        written = from_dask(anomaly, out, path="anomaly", chunks=(24, 20))
        peak = float(x.max().compute())
    return np.asarray(written[...]), peak


def test_directory_store_read_compute_write_on_two_worker_processes(
    client: Client, source: tuple[Path, np.ndarray], tmp_path: Path
) -> None:
    root, data = source
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids  # two real worker processes
    z = zarrio.open_array(root, path="temperature", mode="r")
    result, peak = _compute_and_write(client, z, tmp_path / "out.zarr")
    expected = 2 * data - data.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(zarrio.open_array(tmp_path / "out.zarr", path="anomaly")[...], result)
    assert peak == pytest.approx(float(data.max()))


_unpickled_http_stores = 0


class TrackedHttpStore(HttpStore):
    """An HttpStore that counts how often it is unpickled in the current process."""

    def __setstate__(self, config: dict[str, Any]) -> None:
        global _unpickled_http_stores
        _unpickled_http_stores += 1
        super().__setstate__(config)


def _http_stores_unpickled_here() -> int:
    return _unpickled_http_stores


def test_http_source_read_compute_write(client: Client, source: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    root, data = source
    with zarrio.server.serve(root) as server:
        z = zarrio.open_array(TrackedHttpStore(server.url), path="temperature")
        result, peak = _compute_and_write(client, z, tmp_path / "out.zarr")
        with dask.config.set(scheduler=client.get):
            total = float(to_dask(z, chunks=(16, 20)).sum().compute())  # 24 read tasks
        requests_served = server.request_count
    expected = 2 * data - data.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)
    assert peak == pytest.approx(float(data.max()))
    assert total == pytest.approx(float(data.sum(dtype="float64")), rel=1e-4)
    assert requests_served > 6  # the workers read the shards over HTTP
    unpickled = client.run(_http_stores_unpickled_here)
    assert sum(unpickled.values()) >= 1
    # the array (and its store, with its session and request limit) travels once per worker and graph,
    # not once per task: at most one copy per computation in each process
    assert all(count <= 3 for count in unpickled.values()), unpickled


def test_workers_write_in_parallel_without_locks(client: Client, tmp_path: Path) -> None:
    values = da.arange(200 * 60, dtype="int64", chunks=1000).reshape(200, 60)  # blocks unaligned to chunks
    with dask.config.set(scheduler=client.get):
        z = from_dask(values, tmp_path / "w.zarr", chunks=(10, 30), shards=(40, 60))
    np.testing.assert_array_equal(z[...], np.arange(200 * 60, dtype="int64").reshape(200, 60))


def test_s3_source_and_target_through_obstore(client: Client, source: tuple[Path, np.ndarray]) -> None:
    """Workers (spawned processes) read from and write to S3 (moto's server) through ObjectStore."""
    try:
        import boto3  # type: ignore[import-untyped]
        from moto.server import ThreadedMotoServer
        from obstore.store import S3Store

        from zarrio.stores.object_store import ObjectStore
    except ImportError as missing:  # pragma: no cover - depends on the environment
        skip_without("the obstore extra or moto[server]", missing)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        keys = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}
        endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket="dask")
        backend = S3Store(
            "dask",
            endpoint=endpoint,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
            **keys,  # type: ignore[arg-type]
        )
        s3 = ObjectStore(backend)
        _, data = source
        zarrio.create(s3, data.shape, "float32", path="in", chunks=(16, 20), shards=(32, 40))[...] = data
        with dask.config.set(scheduler=client.get):
            x = to_dask(zarrio.open_array(s3, path="in"))
            from_dask(x[::-1] * 3, s3, path="out", chunks=(32, 40))
        np.testing.assert_array_equal(zarrio.open_array(s3, path="out")[...], data[::-1] * 3)
    finally:
        server.stop()


def _limits_in_worker(payload: bytes) -> dict[str, Any]:
    """Unpickle the same array twice, as two tasks would, and report which request limiter each copy gets."""
    first, second = pickle.loads(payload), pickle.loads(payload)

    async def limiters() -> tuple[int, int]:
        return id(executor.store_limiter(first.aio.store)), id(executor.store_limiter(second.aio.store))

    a, b = zarrio.run(limiters())
    return {"pid": os.getpid(), "same": a == b, "read": first[0:2, 0:2].tolist()}


def test_request_limits_stay_per_process(client: Client, source: tuple[Path, np.ndarray]) -> None:
    root, data = source
    payload = pickle.dumps(zarrio.open_array(LocalStore(root), path="temperature"))
    reports = client.run(_limits_in_worker, payload)
    assert len({r["pid"] for r in reports.values()}) == 2
    for report in reports.values():
        assert report["same"]  # copies in one process share one limiter: the limit is not multiplied
        assert report["read"] == data[0:2, 0:2].tolist()
