"""zarrio: Zarr v3 arrays with async-first I/O and a thin synchronous facade."""
