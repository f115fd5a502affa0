"""zarr.json written by zarrio is read by zarr-python 3.4.2 and tensorstore with the same data type and fill value.

Runs the reference environment (``.venv-ref``) once in a subprocess; skipped when it is absent.
zarr-python 3.4.2 itself drops float16 NaN payloads when it reads a hex fill value (it yields 0x7e00);
tensorstore keeps them, so that case is checked bit-exactly with tensorstore only.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
from typing import Any

import numpy as np
import pytest

from zarrio.metadata import ArrayMetadata, create_array_metadata, parse_data_type

REF_PYTHON = pathlib.Path(__file__).resolve().parents[1] / ".venv-ref" / "bin" / "python"

READER = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, zarr
out = {}
for name in json.loads(sys.argv[2]):
    array = zarr.open_array(f"{sys.argv[1]}/{name}", mode="r")
    values = np.asarray(array[...])
    out[name] = {
        "descr": values.dtype.descr,
        "shape": list(array.shape),
        "fill_bits": np.asarray(values.reshape(-1)[:1]).tobytes().hex() if values.size else "",
        "chunks": list(array.chunks),
        "dimension_names": array.metadata.dimension_names and list(array.metadata.dimension_names),
    }
import tensorstore as ts
for name in json.loads(sys.argv[3]):
    store = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": f"{sys.argv[1]}/{name}"}}).result()
    values = store.read().result()
    out[name]["tensorstore_fill_bits"] = values.reshape(-1)[:1].tobytes().hex()
print(json.dumps(out))
"""
TENSORSTORE_CASES = ["f32_payload", "f16_payload", "f64_negative_nan", "f64_neg_zero", "f32_inf", "u64_big", "i64_min"]
TENSORSTORE_CASES += ["c64", "v2_keys", "dims", "rank0"]
ZARR_PYTHON_LOSES_PAYLOAD = {"f16_payload": "007e"}


def nan_with_payload(dtype: str, bits: int) -> Any:
    unsigned = {"float16": "<u2", "float32": "<u4", "float64": "<u8"}[dtype]
    return np.array([bits], dtype=unsigned).view(dtype)[0]


def dtype_from_descr(descr: list[list[str]]) -> np.dtype[Any]:
    if len(descr) == 1 and descr[0][0] == "":
        return np.dtype(descr[0][1]).newbyteorder("=")
    return np.dtype([(field, np.dtype(code).newbyteorder("=")) for field, code in descr])


CASES: dict[str, ArrayMetadata] = {
    "f32_payload": create_array_metadata((3,), "float32", fill_value=nan_with_payload("float32", 0x7FC00001)),
    "f16_payload": create_array_metadata((3,), "float16", fill_value=nan_with_payload("float16", 0x7E01)),
    "f64_negative_nan": create_array_metadata(
        (3,), "float64", fill_value=nan_with_payload("float64", 0xFFF8000000000000)
    ),
    "f64_neg_zero": create_array_metadata((3,), "float64", fill_value=-0.0),
    "f32_inf": create_array_metadata((3,), "float32", fill_value="-Infinity"),
    "u64_big": create_array_metadata((3,), "uint64", fill_value=2**64 - 3),
    "i64_min": create_array_metadata((3,), "int64", fill_value=-(2**63)),
    "c64": create_array_metadata((3,), "complex64", fill_value=complex(1.5, float("nan"))),
    "m8_nat": create_array_metadata((3,), "M8[10s]"),
    "m8_value": create_array_metadata((3,), "m8[h]", fill_value=7),
    "u5": create_array_metadata((3,), "U5", fill_value="héllo"),
    "s4": create_array_metadata((3,), "S4", fill_value=b"ab"),
    "v3": create_array_metadata((3,), "V3", fill_value=b"\x01\x02\x03"),
    "struct": create_array_metadata((3,), np.dtype([("a", "<i4"), ("b", "<f8")]), fill_value=(7, -0.0)),
    "v2_keys": create_array_metadata((4, 6), "int16", chunks=(2, 4), fill_value=5, chunk_key_encoding="v2"),
    "dims": create_array_metadata((4, 6), "bool", chunks=(2, 4), fill_value=True, dimension_names=["y", None]),
    "rank0": create_array_metadata((), "float32", fill_value=2.5),
}


@pytest.mark.skipif(not REF_PYTHON.exists(), reason="the reference environment .venv-ref (zarr-python 3.4.2) is absent")
def test_zarr_python_reads_what_we_write(tmp_path: pathlib.Path) -> None:
    for name, metadata in CASES.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "zarr.json").write_bytes(metadata.to_bytes())
    result = subprocess.run(
        [str(REF_PYTHON), "-c", READER, str(tmp_path), json.dumps(list(CASES)), json.dumps(TENSORSTORE_CASES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    for name, metadata in CASES.items():
        report = seen[name]
        expected_bits = np.array([metadata.fill_value], dtype=metadata.dtype).tobytes().hex()
        assert report["fill_bits"] == ZARR_PYTHON_LOSES_PAYLOAD.get(name, expected_bits), name
        if name in TENSORSTORE_CASES:
            assert report["tensorstore_fill_bits"] == expected_bits, name
        assert report["shape"] == list(metadata.shape), name
        assert report["chunks"] == list(metadata.chunk_shape), name
        assert dtype_from_descr(report["descr"]) == metadata.dtype, name
        assert report["dimension_names"] == (metadata.dimension_names and list(metadata.dimension_names)), name


def test_payload_nan_is_written_as_hex() -> None:
    # zarr-python would write "NaN" and lose the payload; we keep it (and it reads it back, see above)
    assert CASES["f32_payload"].to_json()["fill_value"] == "0x7fc00001"
    assert CASES["f64_negative_nan"].to_json()["fill_value"] == "0xfff8000000000000"
    assert parse_data_type("float32").fill_to_json(float("nan")) == "NaN"
