"""Sizes, layouts, libraries and paths of the benchmark suite (full and quick modes)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DEFAULT_DATA_DIR = BENCH_DIR / ".data"
RESULTS_DIR = BENCH_DIR / "results"
DOCS_DIR = REPO_DIR / "docs" / "benchmarks"

#: zstd settings of every array the suite writes (level 1, no checksum: the workloads of issue 5)
ZSTD_LEVEL = 1
HTTP_LATENCY_SECONDS = 0.020
#: bump when the generated data changes so cached data sets are rebuilt
DATA_VERSION = 1

LIBRARIES: tuple[str, ...] = ("zarrio", "zarr-python", "zarr-python-fused", "zarr-python-zarrs", "tensorstore")
PEERS: tuple[str, ...] = tuple(lib for lib in LIBRARIES if lib != "zarrio")


@dataclass(frozen=True)
class Layout:
    """How one array is chunked on disk: plain chunks, or shards holding inner chunks."""

    name: str
    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None = None

    @property
    def grid(self) -> tuple[int, ...]:
        """The shape of one stored object (a chunk file or a shard file)."""
        return self.shards if self.shards is not None else self.chunks

    @property
    def inner(self) -> tuple[int, ...]:
        """The shape of one compressed unit (a chunk, or an inner chunk of a shard)."""
        return self.chunks


@dataclass(frozen=True)
class Sizes:
    """Every size the workloads use; the quick mode shrinks them."""

    volume_shape: tuple[int, int, int]
    volume_plain: Layout
    volume_sharded: Layout
    region_edge: int
    region_count: int
    image_shape: tuple[int, int]
    image_sharded: Layout
    image_plain: Layout
    tile_edge: int
    tile_count: int
    hierarchy_groups: int
    hierarchy_arrays_per_group: int
    volume_dtype: str = "uint16"
    image_dtype: str = "uint8"

    def digest(self) -> str:
        """A short hash naming the data set these sizes generate."""
        blob = json.dumps([DATA_VERSION, ZSTD_LEVEL, asdict(self)], sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


FULL = Sizes(
    volume_shape=(512, 512, 512),
    volume_plain=Layout("c64", chunks=(64, 64, 64)),
    volume_sharded=Layout("s256", chunks=(32, 32, 32), shards=(256, 256, 256)),
    region_edge=32,
    region_count=500,
    image_shape=(16384, 16384),
    image_sharded=Layout("s4096", chunks=(256, 256), shards=(4096, 4096)),
    image_plain=Layout("c256", chunks=(256, 256)),
    tile_edge=256,
    tile_count=256,
    hierarchy_groups=6,
    hierarchy_arrays_per_group=4,
)

QUICK = Sizes(
    volume_shape=(128, 128, 128),
    volume_plain=Layout("c64", chunks=(64, 64, 64)),
    volume_sharded=Layout("s128", chunks=(32, 32, 32), shards=(128, 128, 128)),
    region_edge=32,
    region_count=50,
    image_shape=(2048, 2048),
    image_sharded=Layout("s1024", chunks=(256, 256), shards=(1024, 1024)),
    image_plain=Layout("c256", chunks=(256, 256)),
    tile_edge=256,
    tile_count=32,
    hierarchy_groups=3,
    hierarchy_arrays_per_group=2,
)


def sizes_for(quick: bool) -> Sizes:
    return QUICK if quick else FULL


@dataclass(frozen=True)
class PointSizes:
    """The point-selection data set (V1): a 2-D uint16 plane and how many random points are read.
    Kept out of :class:`Sizes` so adding it did not rename (and rebuild) the other data sets."""

    shape: tuple[int, int]
    layout: Layout
    count: int
    dtype: str = "uint16"


POINTS_FULL = PointSizes((4096, 4096), Layout("s1024", chunks=(128, 128), shards=(1024, 1024)), 100_000)
POINTS_QUICK = PointSizes((1024, 1024), Layout("s512", chunks=(128, 128), shards=(512, 512)), 10_000)


def point_sizes(sizes: Sizes) -> PointSizes:
    return POINTS_QUICK if sizes is QUICK else POINTS_FULL


@dataclass(frozen=True)
class TinySizes:
    """The tiny-chunk data sets and the threaded reads of issue 18: a 2-D uint8 image (the same
    generator as the big image) stored with small chunks, plain and sharded. Kept out of
    :class:`Sizes`, like :class:`PointSizes`, so adding it rebuilt nothing else."""

    shape: tuple[int, int]
    edges: tuple[int, ...]
    shard: int
    #: one-element reads per thread in the threaded workloads (P1, P2)
    reads_per_thread: int
    thread_counts: tuple[int, ...] = (1, 4, 16)
    #: the chunk edge of the (unsharded) array the threaded reads use
    threads_edge: int = 20
    dtype: str = "uint8"

    def layout(self, edge: int, sharded: bool) -> Layout:
        if sharded:
            return Layout(f"c{edge}-s{self.shard}", chunks=(edge, edge), shards=(self.shard, self.shard))
        return Layout(f"c{edge}", chunks=(edge, edge))

    def layouts(self) -> list[Layout]:
        return [self.layout(edge, sharded) for sharded in (False, True) for edge in self.edges]


TINY_FULL = TinySizes((2000, 2000), (10, 20, 50), shard=1000, reads_per_thread=500)
TINY_QUICK = TinySizes((400, 400), (10, 20, 50), shard=200, reads_per_thread=50)


def tiny_sizes(sizes: Sizes) -> TinySizes:
    return TINY_QUICK if sizes is QUICK else TINY_FULL


#: arrays in the hierarchies of the G1 rows (issue 18: consolidate and walk at 5,000 and 20,000)
HIERARCHY_SCALES_FULL: tuple[int, ...] = (5000, 20000)
HIERARCHY_SCALES_QUICK: tuple[int, ...] = (200, 800)
#: arrays per group in those hierarchies (root / gNNN / aNN)
HIERARCHY_ARRAYS_PER_GROUP = 100


def hierarchy_scales(sizes: Sizes) -> tuple[int, ...]:
    return HIERARCHY_SCALES_QUICK if sizes is QUICK else HIERARCHY_SCALES_FULL


@dataclass(frozen=True)
class DataPaths:
    """Where each generated data set lives below the data directory."""

    root: Path

    @property
    def volume_plain(self) -> Path:
        return self.root / "volume_plain.zarr"

    @property
    def volume_sharded(self) -> Path:
        return self.root / "volume_sharded.zarr"

    @property
    def image_plain(self) -> Path:
        return self.root / "image_plain.zarr"

    @property
    def image_sharded(self) -> Path:
        return self.root / "image_sharded.zarr"

    @property
    def hierarchy(self) -> Path:
        return self.root / "hierarchy.zarr"

    @property
    def points_sharded(self) -> Path:
        return self.root / "points_sharded.zarr"

    @property
    def points_stamp(self) -> Path:
        return self.root / "POINTS-READY.json"

    def tiny(self, layout: Layout) -> Path:
        """A tiny-chunk copy of the image (issue 18), by layout name."""
        return self.root / f"tiny_{layout.name}.zarr"

    @property
    def tiny_stamp(self) -> Path:
        return self.root / "TINY-READY.json"

    @property
    def volume_plain_v2(self) -> Path:
        """Zarr v2 copy of the 64³-chunk volume (issue 15), written by zarr-python."""
        return self.root / "volume_plain_v2.zarr"

    @property
    def image_plain_v2(self) -> Path:
        """Zarr v2 copy of the unsharded image (issue 15), written by zarr-python."""
        return self.root / "image_plain_v2.zarr"

    @property
    def v2_stamp(self) -> Path:
        return self.root / "V2-READY.json"

    def hierarchy_of(self, arrays: int) -> Path:
        """An unconsolidated hierarchy of ``arrays`` arrays (the G1 rows)."""
        return self.root / f"hierarchy_{arrays}.zarr"

    @property
    def hierarchies_stamp(self) -> Path:
        return self.root / "HIERARCHIES-READY.json"

    @property
    def scratch(self) -> Path:
        """Where the write workloads put their output (one directory per library)."""
        return self.root / "scratch"

    @property
    def stamp(self) -> Path:
        return self.root / "READY.json"


def data_paths(data_dir: Path, sizes: Sizes) -> DataPaths:
    return DataPaths(data_dir / f"{'quick' if sizes is QUICK else 'full'}-{sizes.digest()}")
