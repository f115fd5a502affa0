"""One measurement in a fresh process: ``python -m benchmarks.child SPEC_JSON``.

SPEC_JSON holds ``workload``, ``library``, ``data_dir``, ``quick`` and, for HTTP workloads,
``server_url``. The last line printed to stdout is the result as JSON: the phases, peak RSS
(ru_maxrss of this process when the primary phase ended, before verification), the RSS at the
start of the primary phase, and the library version; or an ``error`` / ``unsupported`` message.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

from .adapters import NotSupportedError, adapter_for
from .config import data_paths, sizes_for
from .limits import LIMITS
from .measure import RunContext
from .workloads import WORKLOADS

LIMITS_LIBRARY = "limits"


def run(spec: dict[str, Any]) -> dict[str, Any]:
    sizes = sizes_for(bool(spec.get("quick")))
    paths = data_paths(Path(spec["data_dir"]), sizes)
    library = spec["library"]
    if library == LIMITS_LIBRARY:
        workload = LIMITS[spec["workload"]]
        ctx = RunContext(library, None, sizes, paths, spec.get("server_url"))
        version = ""
    else:
        workload = WORKLOADS[spec["workload"]]
        adapter = adapter_for(library)
        adapter.setup()
        version = adapter.version()
        ctx = RunContext(library, adapter, sizes, paths, spec.get("server_url"))
    workload.run(ctx)
    zarrio_module = sys.modules.get("zarrio")
    return {**ctx.result(), "version": version, "zarrio_file": getattr(zarrio_module, "__file__", None)}


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        result = run(spec)
    except NotSupportedError as e:
        result = {"unsupported": str(e)}
    except Exception as e:
        traceback.print_exc()
        result = {"error": f"{type(e).__name__}: {e}"[:500]}
    sys.stdout.write("\n" + json.dumps({**spec, **result}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
