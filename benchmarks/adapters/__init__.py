"""One adapter per library; ``adapter_for(name)`` builds the one a child process uses."""

from __future__ import annotations

from .base import Adapter, Location, NotSupportedError, Region

__all__ = ["Adapter", "Location", "NotSupportedError", "Region", "adapter_for"]


def adapter_for(library: str) -> Adapter:
    if library == "zarrio":
        from .zarrio_adapter import ZarrioAdapter

        return ZarrioAdapter()
    if library.startswith("zarr-python"):
        from .zarr_python import ZarrPythonAdapter

        return ZarrPythonAdapter(library)
    if library == "tensorstore":
        from .tensorstore_adapter import TensorstoreAdapter

        return TensorstoreAdapter()
    raise KeyError(f"unknown library {library!r}")
