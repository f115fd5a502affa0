"""The zarr-python-shaped surface: store URLs, modes (one test per cell of zarr-python's table),
zarrio.config, errors naming where, the sync/async parity and the types a user's mypy sees."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zarrio
from zarrio import aio
from zarrio.errors import (
    MemberNotFoundError,
    MetadataError,
    NodeExistsError,
    NodeNotFoundError,
    ReadOnlyError,
    StoreURLError,
)
from zarrio.stores import LocalStore, MemoryStore, as_store


# ---------------------------------------------------------------- store URLs
def test_memory_urls_are_named_stores_shared_in_the_process() -> None:
    a = zarrio.create_array("memory://shared-test", shape=(3,), dtype="i4")
    a[:] = [1, 2, 3]
    assert as_store("memory://shared-test") is as_store("memory://shared-test")
    assert zarrio.open_array("memory://shared-test")[:].tolist() == [1, 2, 3]
    assert isinstance(as_store("memory://"), MemoryStore)
    assert as_store("memory://other") is not as_store("memory://shared-test")


def test_file_urls_are_local_stores(tmp_path: Path) -> None:
    url = (tmp_path / "d.zarr").as_uri()
    zarrio.create_array(url, shape=(2,), dtype="u1")
    store = as_store(url)
    assert isinstance(store, LocalStore) and store.root == tmp_path / "d.zarr"
    assert repr(zarrio.open_array(url)).startswith(f"<zarrio.Array {url} shape=(2,)")


def test_unknown_schemes_are_a_typed_error_not_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreURLError, match="no store for foo:// URLs") as caught:
        zarrio.open_group("foo://bar/baz")
    assert isinstance(caught.value, ValueError)
    assert list(tmp_path.iterdir()) == []  # no directory named "foo:" appeared


def test_storage_options_need_a_url(tmp_path: Path) -> None:
    with pytest.raises(StoreURLError, match="apply to store URLs"):
        zarrio.open_group(str(tmp_path / "g.zarr"), storage_options={"anon": True})


def test_http_urls_take_http_store_options() -> None:
    from zarrio.stores import HttpStore

    store = as_store("http://127.0.0.1:9/d.zarr", storage_options={"headers": {"X-Token": "t"}})
    assert isinstance(store, HttpStore) and store.headers["X-Token"] == "t"
    with pytest.raises(StoreURLError, match="do not fit HttpStore"):
        as_store("http://127.0.0.1:9/d.zarr", storage_options={"anon": True})


def test_fsspec_spellings_become_obstore_options() -> None:
    from zarrio.stores._urls import obstore_options

    got = obstore_options("s3", {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}})
    assert got == {
        "access_key_id": "k",
        "secret_access_key": "s",
        "endpoint": "http://127.0.0.1:9",
        "client_options": {"allow_http": True},
    }
    assert obstore_options("s3", {"anon": True}) == {"skip_signature": True}


def test_s3_without_credentials_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("obstore", reason="the obstore extra is not installed")
    from zarrio.errors import MissingCredentialsError

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # both endpoints are the discard port on 127.0.0.1: nothing leaves the machine, nothing answers
    options = {
        "region": "us-east-1",
        "endpoint": "http://127.0.0.1:9",
        "metadata_endpoint": "http://127.0.0.1:9",
        "client_options": {"connect_timeout": "1s"},
        "retry_config": {"max_retries": 0, "retry_timeout": __import__("datetime").timedelta(seconds=1)},
    }
    with pytest.raises(MissingCredentialsError) as caught:
        zarrio.open_group("s3://bucket/data.zarr", mode="r", storage_options=options)
    message = str(caught.value)
    assert "\n" not in message and "no credentials for s3://bucket/data.zarr" in message


# ---------------------------------------------------------------- modes: zarr-python's table
def _setup(state: str, path: Path) -> str:
    p = str(path / "t.zarr")
    if state == "array":
        zarrio.create_array(p, shape=(3,), dtype="i4")[:] = 1
    elif state == "group":
        zarrio.create_group(p, attributes={"k": 1})
    return p


# (function, mode, state, with shape) -> expected: an error class, or (kind, read_only, shape or attrs)
MODE_TABLE = {
    ("open", "r", "missing"): NodeNotFoundError,
    ("open", "r", "array"): ("Array", True, (3,)),
    ("open", "r", "group"): ("Group", True, {"k": 1}),
    ("open", "r+", "missing"): NodeNotFoundError,
    ("open", "r+", "array"): ("Array", False, (3,)),
    ("open", "r+", "group"): ("Group", False, {"k": 1}),
    ("open", "a", "missing"): ("Group", False, {}),
    ("open", "a", "array"): ("Array", False, (3,)),
    ("open", "a", "group"): ("Group", False, {"k": 1}),
    ("open", "w", "missing"): ("Group", False, {}),
    ("open", "w", "array"): ("Group", False, {}),
    ("open", "w", "group"): ("Group", False, {}),
    ("open", "w-", "array"): NodeExistsError,
    ("open", "w-", "group"): NodeExistsError,
    ("open_array+shape", "a", "missing"): ("Array", False, (4,)),
    ("open_array+shape", "a", "array"): ("Array", False, (3,)),
    ("open_array+shape", "w", "array"): ("Array", False, (4,)),
    ("open_array+shape", "w", "group"): ("Array", False, (4,)),
    ("open_array+shape", "w-", "missing"): ("Array", False, (4,)),
    ("open_array+shape", "w-", "array"): NodeExistsError,
    ("open_array+shape", "r", "missing"): NodeNotFoundError,
    ("open_array", "r", "array"): ("Array", True, (3,)),
    ("open_array", "r+", "array"): ("Array", False, (3,)),
    ("open_array", "a", "missing"): NodeNotFoundError,
    ("open_array", "w", "missing"): MetadataError,
    ("open_group", "r", "missing"): NodeNotFoundError,
    ("open_group", "r", "group"): ("Group", True, {"k": 1}),
    ("open_group", "r+", "group"): ("Group", False, {"k": 1}),
    ("open_group", "a", "missing"): ("Group", False, {}),
    ("open_group", "w", "array"): ("Group", False, {}),
    ("open_group", "w-", "missing"): ("Group", False, {}),
    ("open_group", "w-", "group"): NodeExistsError,
}


@pytest.mark.parametrize(("cell", "expected"), list(MODE_TABLE.items()), ids=lambda v: str(v))
def test_mode_table(tmp_path: Path, cell: tuple[str, str, str], expected: object) -> None:
    function, mode, state = cell
    p = _setup(state, tmp_path)
    name, _, shaped = function.partition("+")
    kwargs = {"shape": (4,), "dtype": "f8"} if shaped else {}
    call = getattr(zarrio, name)
    if isinstance(expected, type):
        with pytest.raises(expected):
            call(p, mode=mode, **kwargs)
        return
    assert isinstance(expected, tuple)
    kind, read_only, detail = expected
    node = call(p, mode=mode, **kwargs)
    assert type(node).__name__ == kind and node.read_only is read_only
    if kind == "Array":
        assert node.shape == detail
        if read_only:
            with pytest.raises(ReadOnlyError):
                node[0] = 5
        else:
            node[0] = 5
            assert node[0] == 5
    else:
        assert dict(node.attrs) == detail


def test_mode_a_on_a_read_only_store_opens_read_only(tmp_path: Path) -> None:
    from zarrio.stores import ZipStore

    archive = tmp_path / "a.zip"
    with ZipStore(archive, mode="w") as zs:
        zarrio.create_array(zs, name="x", shape=(2,), dtype="i1")
    with ZipStore(archive) as zr:  # read-only: mode "a" means "r", as in zarr-python
        with pytest.raises(NodeNotFoundError):  # not a ReadOnlyError from trying to create a group
            zarrio.open(zr, path="missing")
        assert zarrio.open_array(zr, path="x").read_only


# ---------------------------------------------------------------- errors name where
def test_not_found_names_the_store_and_v2_metadata(tmp_path: Path) -> None:
    root = tmp_path / "data.zarr"
    zarrio.create_group(str(root))
    with pytest.raises(NodeNotFoundError, match=rf"no array or group at 'x' in {root.as_uri()}$") as caught:
        zarrio.open(str(root), path="x", mode="r")
    assert caught.value.location == root.as_uri() and caught.value.path == "x"
    (root / "old").mkdir()
    (root / "old" / ".zarray").write_text("{}")
    with pytest.raises(NodeNotFoundError, match=r"Zarr v2 metadata \(\.zarray\): open it with zarr_format=2"):
        zarrio.open_array(str(root), path="old", mode="r", zarr_format=3)
    group = zarrio.open_group(str(root))
    with pytest.raises(KeyError):
        group["missing"]
    with pytest.raises(MemberNotFoundError):
        group["missing"]


# ---------------------------------------------------------------- zarrio.config
def test_config_sets_defaults_and_restores_them() -> None:
    assert zarrio.config.get("array.write_empty_chunks") is False
    with zarrio.config.set({"array.write_empty_chunks": True}):
        a = zarrio.zeros((4,), chunks=(2,))
        a[:] = 0
        assert a.nchunks_initialized == 2  # all-fill chunks stored
    assert zarrio.config.get("array.write_empty_chunks") is False
    b = zarrio.zeros((4,), chunks=(2,))
    b[:] = 0
    assert b.nchunks_initialized == 0
    with zarrio.config.set({"array.compressors": [{"name": "gzip", "configuration": {"level": 1}}]}):
        assert [c["name"] for c in zarrio.zeros((2,)).codecs] == ["bytes", "gzip"]
    with pytest.raises(MetadataError):
        zarrio.config.set({"no.such.key": 1})


def test_config_threads_and_concurrency_are_used() -> None:
    from zarrio.engine import executor

    with zarrio.config.set({"threading.max_workers": 3, "async.concurrency": 2}):
        assert executor.codec_pool()._max_workers == 3
        store = MemoryStore()

        async def limit() -> int:
            return executor.store_limiter(store)._value

        assert asyncio.run(limit()) == 2
        a = zarrio.array(np.arange(10), chunks=(2,))
        assert a[:].tolist() == list(range(10))


# ---------------------------------------------------------------- creation API
def test_create_array_takes_zarr_python_arguments() -> None:
    from zarrio.codecs import BloscCodec, TransposeCodec

    a = zarrio.create_array(
        "memory://create-args",
        name="x",
        shape=(4, 4),
        dtype="uint16",
        chunks=(2, 2),
        filters=[TransposeCodec(order=[1, 0])],
        compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")],
        attributes={"a": 1},
        dimension_names=["y", "x"],
        config={"write_empty_chunks": True},
    )
    assert [c["name"] for c in a.codecs] == ["transpose", "bytes", "blosc"]
    assert a.path == "x" and a.attrs["a"] == 1 and a.dimension_names == ("y", "x")
    b = zarrio.create_array(MemoryStore(), data=np.arange(6).reshape(2, 3), compressors=None)
    assert [c["name"] for c in b.codecs] == ["bytes"] and b[:].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert zarrio.full((2,), 7.5)[:].tolist() == [7.5, 7.5]
    assert zarrio.ones_like(b)[:].tolist() == [[1, 1, 1], [1, 1, 1]]
    store = MemoryStore()
    zarrio.save(store, np.arange(3), arrays={"foo": np.ones(2)})
    loaded = zarrio.load(store)
    assert sorted(loaded) == ["arr_0", "foo"] and loaded["arr_0"].tolist() == [0, 1, 2]


# ---------------------------------------------------------------- types and parity
def test_every_async_function_has_a_sync_twin_with_the_same_parameters() -> None:
    public = [name for name in aio.__all__ if inspect.iscoroutinefunction(getattr(aio, name))]
    assert len(public) >= 20
    for name in public:
        sync = getattr(zarrio, name)
        a, s = inspect.signature(getattr(aio, name)), inspect.signature(sync)
        assert list(a.parameters) == list(s.parameters), name
        for p, q in zip(a.parameters.values(), s.parameters.values(), strict=True):
            assert (p.kind, p.default, p.annotation) == (q.kind, q.default, q.annotation), f"{name}({p.name})"
        assert not any(p.kind is p.VAR_KEYWORD for p in s.parameters.values()), name


def test_the_blocking_nodes_spell_out_their_keywords() -> None:
    for cls in (zarrio.Array, zarrio.Group):
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_"):
                continue
            params = inspect.signature(member).parameters.values()
            assert not any(p.kind is p.VAR_KEYWORD for p in params), f"{cls.__name__}.{name} takes **kwargs"
    g = zarrio.group()
    a = g.require_array("r", shape=(2,), dtype="i2", chunks=(1,), compressors=None)
    assert g.require_array("r", shape=(2,), dtype="i4").path == a.path  # int16 casts to int32
    with pytest.raises(NodeExistsError, match="has dtype int16"):
        g.require_array("r", shape=(2,), dtype="i1")
    with pytest.raises(NodeExistsError, match="a group, not an array"):
        g.require_group("q")
        g.require_array("q", shape=(2,))


USER_SCRIPT = """
import numpy as np
import zarrio

z: zarrio.Array = zarrio.create_array("memory://typed", shape=(4,), dtype="f8", chunks=(2,))
z[:] = np.arange(4.0)
g: zarrio.Group = zarrio.open_group("memory://typed-g", mode="a")
a = g.zeros(name="a", shape=(2,))
n: int = a.nchunks
reveal_type(zarrio.open_array)
"""


@pytest.mark.timeout(300)  # a mypy run over the package, on a loaded machine
def test_a_users_mypy_strict_sees_the_signatures(tmp_path: Path) -> None:
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT)
    bad = tmp_path / "bad.py"
    bad.write_text("import zarrio\nzarrio.create_array('memory://x', shape=(2,), dtype='f8', chunkz=(1,))\n")
    assert (Path(zarrio.__file__).parent / "py.typed").is_file()
    # one run checks both files (the package is analysed once); each line names its file
    run = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent"]
    done = subprocess.run([*run, str(script), str(bad)], capture_output=True, text=True, timeout=300, check=False)
    good = [line for line in done.stdout.splitlines() if line.startswith(str(script))]
    wrong = [line for line in done.stdout.splitlines() if line.startswith(str(bad))]
    assert good and wrong, done.stdout + done.stderr
    assert not [line for line in good if "error" in line.replace("Revealed type", "")], done.stdout
    assert any("storage_options" in line for line in good)  # reveal_type shows the spelled-out keyword arguments
    assert any('Unexpected keyword argument "chunkz"' in line for line in wrong), done.stdout


# ---------------------------------------------------------------- start-up
def test_importing_zarrio_leaves_optional_and_slow_packages_for_their_first_use() -> None:
    # every `zarrio` command pays its imports: numcodecs alone was a fifth of `import zarrio`
    code = (
        "import sys, zarrio, zarrio.cli, zarrio.stores\n"
        "later = [m for m in ('dask', 'distributed', 'xarray', 'obstore', 'numcodecs', 'aiohttp') if m in sys.modules]\n"
        "assert not later, later\n"
        "x = zarrio.to_dask(zarrio.create(zarrio.stores.MemoryStore(), 4, 'int8'))\n"
        "assert 'dask' in sys.modules and x.compute().tolist() == [0, 0, 0, 0]\n"
        "assert zarrio.stores.ObjectStore.__name__ == 'ObjectStore' and 'obstore' in sys.modules\n"
        "z = zarrio.create(zarrio.stores.MemoryStore(), 8, 'int16', codecs=[{'name': 'blosc'}])\n"
        "z[:] = range(8)\n"
        "assert z[:].tolist() == list(range(8)) and 'numcodecs' in sys.modules\n"
        "v2 = zarrio.create(zarrio.stores.MemoryStore(), 4, 'int8', zarr_format=2, compressors={'id': 'zlib'})\n"
        "v2[:] = 3\n"
        "assert v2[:].tolist() == [3, 3, 3, 3]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
