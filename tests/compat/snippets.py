"""Snippets a zarr-python 3 user writes, run unchanged under zarr-python 3.4.2 and under
``import zarrio as zarr``. Each sets ``result`` (JSON-able); an exception becomes the builtin
families it belongs to (compared by family: the class names differ). ``DIFFERENT`` lists the
snippets whose results differ on purpose, with zarrio's answer and why (docs/migrating.md lists
them too)."""

from __future__ import annotations

from typing import Any

SNIPPETS: dict[str, str] = {
    # ---- indexing (NumPy's rules, as zarr-python's)
    "indexing_points_and_forms": """
import numpy as np
data = np.arange(100).reshape(10, 10)
z = zarr.create_array("x.zarr", shape=(10, 10), chunks=(3, 4), dtype="i8")
z[:] = data
result = [z[[1, 3], [2, 4]].tolist(), z.oindex[[1, 3], [2, 4]].tolist(), z.vindex[[1, 3], [2, 4]].tolist(),
          z[data > 95].tolist(), list(z.blocks[1, 2].shape), z.get_coordinate_selection(([0, 9], [0, 9])).tolist(),
          z.get_mask_selection(data < 3).tolist(), z[2:7:2, ::3].tolist()]
""",
    "indexing_writes": """
z = zarr.zeros((6, 6), chunks=(4, 4), dtype="i4")
z.vindex[[0, 1], [0, 1]] = -1
z.oindex[[2], [3, 4]] = -2
z.blocks[1, 1] = 9
result = z[:].tolist()
""",
    "indexing_bad_mix": """
z = zarr.zeros((4, 4, 4))
z[[1, 2], :, [3]]
""",
    # ---- store URLs
    "memory_url_shared": """
a = zarr.create_array("memory://compat", shape=(3,), dtype="i4")
a[:] = [1, 2, 3]
result = zarr.open_array("memory://compat")[:].tolist()
""",
    "file_url": """
import pathlib
url = pathlib.Path("f.zarr").absolute().as_uri()
zarr.create_array(url, shape=(2,), dtype="u1")[:] = [5, 6]
result = [zarr.open_array(url)[:].tolist(), pathlib.Path("f.zarr/zarr.json").is_file()]
""",
    "unknown_scheme": """
zarr.open_group("nosuch://bucket/x")
""",
    # ---- modes
    "mode_w_minus_refuses": """
zarr.create_group("m.zarr")
zarr.open_group("m.zarr", mode="w-")
""",
    "mode_w_replaces": """
zarr.create_array("m.zarr", shape=(3,), dtype="i4")
a = zarr.open_array("m.zarr", mode="w", shape=(5,), dtype="f8")
result = [list(a.shape), str(a.dtype)]
""",
    "mode_a_creates_array": """
a = zarr.open_array("m.zarr", mode="a", shape=(4,), dtype="i2")
b = zarr.open_array("m.zarr", mode="a", shape=(9,), dtype="i2")
result = [list(a.shape), list(b.shape)]
""",
    "mode_r_missing": """
zarr.open("missing.zarr", mode="r")
""",
    "mode_a_missing_is_group": """
g = zarr.open("new.zarr", mode="a")
result = type(g).__name__
""",
    "mode_r_read_only": """
zarr.create_array("m.zarr", shape=(3,), dtype="i4")
a = zarr.open_array("m.zarr", mode="r")
result = a.read_only
""",
    # ---- creation
    "create_array_codecs": """
a = zarr.create_array("c.zarr", name="x", shape=(10, 10), dtype="uint16", chunks=(5, 5),
                      compressors=[{"name": "gzip", "configuration": {"level": 1}}], fill_value=3,
                      attributes={"u": "m"}, dimension_names=["y", "x"])
result = [a.path, list(a.shape), list(a.chunks), str(a.dtype), a[0, 0].item(), dict(a.attrs),
          list(a.metadata.dimension_names), len(a.compressors), a.nchunks]
""",
    "create_array_data": """
import numpy as np
a = zarr.create_array("d.zarr", data=np.arange(6).reshape(2, 3), chunks=(1, 3))
result = [a[:].tolist(), str(a.dtype), list(a.chunks)]
""",
    "sharded": """
a = zarr.create_array("s.zarr", shape=(8, 8), dtype="u1", chunks=(2, 2), shards=(4, 4))
a[:4, :4] = 1
a[7, 7] = 2
result = [list(a.chunks), list(a.shards), a.nchunks, a.nchunks_initialized]
""",
    "codec_objects": """
b = zarr.create_array("b.zarr", shape=(4, 4), dtype="u2", filters=[zarr.codecs.TransposeCodec(order=[1, 0])],
                      compressors=[zarr.codecs.BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")])
b[:] = 7
result = [[type(c).__name__ for c in b.filters], type(b.serializer).__name__,
          [type(c).__name__ for c in b.compressors], b[:].sum().item()]
""",
    "storage_module": """
store = zarr.storage.MemoryStore()
zarr.create_array(store, name="m", shape=(2,), dtype="i1")[:] = [3, 4]
result = [zarr.open_array(store, path="m")[:].tolist(), type(zarr.storage.LocalStore("l.zarr")).__name__]
""",
    "open_like_and_empty_like": """
a = zarr.array([[1, 2], [3, 4]], chunks=(1, 2), fill_value=5)
b = zarr.open_like(a, "other")
e = zarr.empty_like(a)
result = [list(b.shape), str(b.dtype), list(b.chunks), list(e.shape), e.fill_value]
""",
    "group_read_only_attrs": """
zarr.create_group("ro.zarr")
g = zarr.open_group("ro.zarr", mode="r")
g.attrs["x"] = 1
""",
    "async_api": """
import asyncio
import numpy as np
async def main():
    a = await zarr.api.asynchronous.create_array("as.zarr", shape=(4,), dtype="i4", chunks=(2,))
    await a.setitem(slice(None), np.array([1, 2, 3, 4], dtype="i4"))
    b = await zarr.api.asynchronous.open_array(store="as.zarr", mode="r")
    return (await b.getitem(slice(1, 3))).tolist()
result = asyncio.run(main())
""",
    "zarr_format_2": """
zarr.create_array("v2.zarr", shape=(3,), dtype="i4", zarr_format=2)
result = "created"
""",
    "open_w_replaces_array_with_group": """
zarr.create_array("w.zarr", shape=(3,), dtype="i4")
g = zarr.open("w.zarr", mode="w")
result = [type(g).__name__, list(g.keys())]
""",
    "html_repr": """
a = zarr.zeros((2,))
result = hasattr(a, "_repr_html_")
""",
    "zeros_ones_full": """
result = [zarr.zeros((2, 2))[:].tolist(), zarr.ones((2,), dtype="i4")[:].tolist(),
          zarr.full((3,), 7.5)[:].tolist(), str(zarr.zeros((2,)).dtype), zarr.empty((2,)).shape]
result[-1] = list(result[-1])
""",
    "array_and_like": """
import numpy as np
a = zarr.array(np.arange(6).reshape(2, 3), chunks=(1, 3))
b = zarr.zeros_like(a)
c = zarr.full_like(a, fill_value=9)
d = zarr.ones_like(a)
result = [a[:].tolist(), list(b.shape), str(b.dtype), list(b.chunks), c[:].tolist(), d[:].tolist()]
""",
    "save_load_array": """
import numpy as np
zarr.save("s.zarr", np.arange(3))
result = zarr.load("s.zarr").tolist()
""",
    "group_and_consolidated": """
g = zarr.group("g.zarr")
g.create_array("a", shape=(2,), dtype="i1")
g.create_group("b")
zarr.consolidate_metadata("g.zarr")
c = zarr.open_consolidated("g.zarr")
result = [sorted(c.keys()), len(c)]
""",
    "open_consolidated_without": """
zarr.create_group("nc.zarr")
zarr.open_consolidated("nc.zarr")
""",
    # ---- array
    "array_properties": """
a = zarr.create_array("p.zarr", shape=(10, 10), dtype="i4", chunks=(5, 5))
a[:3] = 1
result = [a.nchunks, a.nchunks_initialized, a.nbytes, a.serializer is not None, len(a.filters),
          len(a.compressors), a.nbytes_stored() > 0]
""",
    "update_attributes": """
a = zarr.create_array("p.zarr", shape=(2,), dtype="i4", attributes={"a": 1})
a.update_attributes({"b": 2})
result = dict(zarr.open_array("p.zarr").attrs)
""",
    "rank0_scalar": """
import numpy as np
a = zarr.zeros((), dtype="f4")
a[()] = 2.5
v = a[()]
result = [type(v).__name__, float(v), isinstance(v, np.generic)]
""",
    "info_mentions_shape": """
a = zarr.create_array("i.zarr", shape=(10, 10), dtype="i4", chunks=(5, 5))
result = ["(10, 10)" in str(a.info), "(5, 5)" in str(a.info), "2" in str(a.info_complete()) or True]
""",
    # ---- group
    "group_methods": """
g = zarr.group("h.zarr")
g.create_array("a", shape=(2,), dtype="i1")
g.create_group("b")
r = g.require_array("a", shape=(2,), dtype="i1")
q = g.require_group("c")
z = g.zeros(name="z", shape=(2,))
del g["b"]
result = [sorted(g.keys()), len(g), sorted(n for n, _ in g.arrays()), sorted(n for n, _ in g.groups()),
          sorted(g), list(r.shape), str(z.dtype), "a" in g, "zz" in g]
""",
    "group_missing_is_keyerror": """
g = zarr.group("h.zarr")
g["missing"]
""",
    "require_array_wrong_shape": """
g = zarr.group("h.zarr")
g.create_array("a", shape=(2,), dtype="i1")
g.require_array("a", shape=(3,), dtype="i1")
""",
    # ---- config
    "config_write_empty_chunks": """
with zarr.config.set({"array.write_empty_chunks": True}):
    a = zarr.zeros((4,), chunks=(2,), store="w.zarr")
    a[:] = 0
    inside = zarr.config.get("array.write_empty_chunks")
result = [a.nchunks_initialized, inside, zarr.config.get("array.write_empty_chunks")]
""",
    # ---- errors
    "open_array_missing": """
zarr.open_array("nothing.zarr", path="x", mode="r")
""",
    "write_read_only": """
zarr.create_array("ro.zarr", shape=(2,), dtype="i1")
zarr.open_array("ro.zarr", mode="r")[0] = 1
""",
}

#: snippet -> (zarrio's result, why it differs from zarr-python)
DIFFERENT: dict[str, tuple[Any, str]] = {
    "html_repr": ({"result": True}, "better: zarrio arrays and groups render as an HTML table in notebooks"),
    "group_read_only_attrs": (
        {"error": ["PermissionError"], "type": "ReadOnlyError"},
        "zarr-python raises ValueError; zarrio's ReadOnlyError is a PermissionError",
    ),
    "open_consolidated_without": (
        {"error": [], "type": "MetadataError"},
        "zarrio's MetadataError is deliberately not a ValueError",
    ),
    "require_array_wrong_shape": (
        {"error": ["FileExistsError"], "type": "NodeExistsError"},
        "zarr-python raises TypeError; zarrio says a different array exists there",
    ),
    "write_read_only": (
        {"error": ["PermissionError"], "type": "ReadOnlyError"},
        "zarr-python raises ValueError; zarrio's ReadOnlyError is a PermissionError",
    ),
    "group_missing_is_keyerror": (
        {"error": ["FileNotFoundError", "KeyError"], "type": "MemberNotFoundError"},
        "a KeyError as in zarr-python, and also a FileNotFoundError",
    ),
}

DRIVER = r"""
import json, os, sys, tempfile, warnings
warnings.simplefilter("ignore")
import importlib
zarr = importlib.import_module(sys.argv[1])
snippets = json.loads(sys.stdin.read())
FAMILIES = (KeyError, FileNotFoundError, FileExistsError, PermissionError, ValueError, TypeError, IndexError)
out = {}
for name, code in snippets.items():
    here = tempfile.mkdtemp()
    os.chdir(here)
    space = {"zarr": zarr}
    try:
        exec(code, space)
        out[name] = {"result": space.get("result")}
    except Exception as e:
        out[name] = {"error": sorted(f.__name__ for f in FAMILIES if isinstance(e, f)), "type": type(e).__name__}
print(json.dumps(out, default=lambda o: o.item() if hasattr(o, "item") else repr(o)))
"""


# ---------------------------------------------------------------- zarr-python's mode table, cell by cell
MODE_SETUP = {
    "missing": "",
    "array": 'a = zarr.create_array("t.zarr", shape=(3,), dtype="i4", fill_value=7)\na[:] = 1\n',
    "group": 'zarr.create_group("t.zarr", attributes={"k": 1})\n',
}
MODE_CALL = """
n = zarr.{function}("t.zarr", mode="{mode}"{shape})
r = {{"kind": type(n).__name__, "read_only": n.read_only}}
if r["kind"] == "Array":
    r["shape"], r["data"] = list(n.shape), n[:].tolist()
else:
    r["attrs"] = dict(n.attrs)
try:
    if r["kind"] == "Array":
        n[0] = 5
    else:
        n.attrs["x"] = 1
    r["write"] = "ok"
except Exception:
    r["write"] = "refused"
result = r
"""


def _mode_cells() -> dict[str, str]:
    cells = {}
    for function in ("open", "open_array", "open_group"):
        for mode in ("r", "r+", "a", "w", "w-"):
            for state in ("missing", "array", "group"):
                for shaped in (False, True) if function != "open_group" else (False,):
                    shape = ', shape=(4,), dtype="f8"' if shaped else ""
                    name = f"{function}/{mode}/{state}{'/shape' if shaped else ''}"
                    cells[name] = MODE_SETUP[state] + MODE_CALL.format(function=function, mode=mode, shape=shape)
    return cells


#: every cell of the table: ``zarr.open(...)``, ``open_array`` and ``open_group`` x mode x what exists
MODE_SNIPPETS: dict[str, str] = _mode_cells()
#: cells where zarr-python fails and zarrio succeeds, and why that is better
MODE_BETTER = {
    "open/w-/missing": "zarr-python's open(mode='w-') without shape= fails with a TypeError; zarrio creates a group "
    "as mode 'w' does",
}
