"""zarrio's benchmark suite: the same workloads on zarrio, zarr-python (three pipelines) and tensorstore.

Run ``python -m benchmarks`` from the repository root with the reference interpreter; see README.md.
"""
