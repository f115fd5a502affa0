"""s3:// URLs with ``storage_options=`` through every entry point, against moto's S3 server on
127.0.0.1 with explicit test credentials (obstore never looks for others)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from test_object_store import BUCKET, CREDENTIALS, S3Server

import zarrio
from zarrio.stores import ObjectStore, as_store


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.stop()


def fsspec_options(s3: S3Server) -> dict[str, Any]:
    """What a zarr-python user passes to s3fs: fsspec's names, translated for obstore."""
    return {
        "key": CREDENTIALS["access_key_id"],
        "secret": CREDENTIALS["secret_access_key"],
        "client_kwargs": {"endpoint_url": s3.endpoint, "region_name": CREDENTIALS["region"]},
        "virtual_hosted_style_request": False,
    }


def test_an_s3_url_with_storage_options_round_trips(s3: S3Server) -> None:
    url = f"s3://{BUCKET}/urls-{uuid.uuid4().hex}/data.zarr"
    options = fsspec_options(s3)
    a = zarrio.create_array(url, name="x", shape=(6,), dtype="int32", chunks=(2,), storage_options=options)
    a[:] = np.arange(6, dtype="int32")
    assert isinstance(a.aio.store, ObjectStore)
    assert repr(a).startswith(f"<zarrio.Array {url}/x shape=(6,)")
    again = zarrio.open_array(url, path="x", mode="r", storage_options=options)
    assert again.read_only and again[:].tolist() == [0, 1, 2, 3, 4, 5]
    group = zarrio.open_group(url, mode="r", storage_options=options)
    assert group.keys() == ["x"]
    zarrio.consolidate_metadata(url, storage_options=options)
    assert zarrio.open_consolidated(url, mode="r", storage_options=options)["x"].shape == (6,)
    zarrio.delete_node(url, "x", storage_options=options)
    with pytest.raises(zarrio.NodeNotFoundError, match=rf"no array or group at 'x' in {url}"):
        zarrio.open_array(url, path="x", mode="r", storage_options=options)


def test_obstore_spellings_pass_through(s3: S3Server) -> None:
    url = f"s3://{BUCKET}/urls-{uuid.uuid4().hex}"
    options = {
        **CREDENTIALS,
        "endpoint": s3.endpoint,
        "virtual_hosted_style_request": False,
        "client_options": {"allow_http": True},
    }
    zarrio.save(url, np.arange(3), storage_options=options)
    assert zarrio.load(url, storage_options=options).tolist() == [0, 1, 2]
    assert as_store(url, read_only=True, storage_options=options).read_only


def test_an_option_obstore_does_not_know_is_a_store_error() -> None:
    with pytest.raises(zarrio.StoreError, match="cannot make an object store"):
        as_store("s3://bucket/x", storage_options={"no_such_option": 1})
