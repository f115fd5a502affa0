"""Glue to other libraries, each behind its optional extra: :mod:`.dask` (``zarrio[dask]``) and the
xarray backend :mod:`.xarray_backend` (``zarrio[xarray]``, ``engine="zarrio"``). Importing this
package imports neither library."""
