"""Run settings: the frozen dataclasses of the `rtm` config contract, and the demo's settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_BANDWIDTHS: tuple[int, ...] = (50, 100, 200, 300, 400, 500, 600, 700, 800)
DEMO_PATH = Path(__file__).resolve().parents[1] / "data" / "chicago_demo.gpkg"
MEASURES = ("distance", "kde")
KERNELS = ("quartic", "gaussian")
MODEL_KINDS = ("dl", "classical")
LOSSES = ("poisson", "negbin")
DEVICES = ("auto", "cpu", "cuda")
AREAS = ("measure", "count")
HISTORY_TRANSFORMS = ("log1p", "count")
UNIT_KINDS = ("grid", "file")
KEEP = ("centre", "intersect")
DEFAULT_HISTORY_BANDWIDTHS: tuple[int, ...] = (150, 300, 600)
MAX_GRID_CELLS = 1_000_000  # largest grid built without confirmation (units.max_cells)
LARGE_GRID_CELLS = 10_000_000  # the limit once confirmed (`rtm --allow-large-grid`)


@dataclass(frozen=True)
class LayerSource:
    """Where one layer comes from and how to read it.

    Attributes
    ----------
    path : Path or None
        A file (CSV, GeoJSON, GeoPackage, zipped shapefile, shapefile). None with ``data``.
    layer : str or None
        Layer name inside a GeoPackage (or a multi-layer file).
    x, y : str or None
        Coordinate columns of a CSV (x/easting/longitude, y/northing/latitude).
    crs : str or None
        CRS of the coordinates, e.g. ``"EPSG:4326"``; for vector files it overrides a missing
        or unrecognised .prj.
    data : bytes or None
        File content, as an upload arrives (``path`` then only names it).
    name : str
        Name shown in messages (the upload's file name, or the path).
    """

    path: Path | None = None
    layer: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)
    name: str = ""

    @property
    def label(self) -> str:
        """Name of the source in messages: file name plus layer."""
        base = self.name or (self.path.name if self.path is not None else "<upload>")
        return f"{base}:{self.layer}" if self.layer else base


@dataclass(frozen=True)
class UnitsConfig:
    """The spatial units of analysis.

    Attributes
    ----------
    kind : {"grid", "file"}
        A square grid over ``boundary``, or units read from ``source``.
    boundary : LayerSource or None
        Study-area polygon(s) for a grid.
    cell_size : float
        Grid cell side in metres.
    keep : {"centre", "intersect"}
        Keep cells whose centre is inside the boundary (default) or that touch it.
    source : LayerSource or None
        Units layer (points, lines such as street segments, or polygons) for ``kind="file"``.
    id_column : str or None
        Column with a stable unit id in ``source``; default: row number.
    fixed_columns : tuple of str
        Columns of the units layer used as fixed covariates (always in, any sign); the
        TOML key ``fixed``.
    snap_distance : float
        For point and line units: a crime is counted at its nearest unit within this distance.
    crs : str or None
        Working CRS (projected, metres). Default: the boundary's/units' if projected, else an
        estimated UTM zone.
    max_cells : int
        Largest grid (cells of the boundary's bounding box) built without complaint; a bigger
        one is refused as probably asked by accident. Raise it to confirm a large grid.
    """

    kind: str = "grid"
    boundary: LayerSource | None = None
    cell_size: float = 150.0
    keep: str = "centre"
    source: LayerSource | None = None
    id_column: str | None = None
    fixed_columns: tuple[str, ...] = field(default=(), metadata={"key": "fixed"})
    snap_distance: float = 50.0
    crs: str | None = None
    max_cells: int = MAX_GRID_CELLS


@dataclass(frozen=True)
class CrimesConfig:
    """The outcome: crimes of the training period (t) and the test period (t+1).

    Attributes
    ----------
    source : LayerSource or None
        One file holding both periods (needs ``date``, ``train`` and ``test``).
    date : str or None
        Date column of ``source``.
    train, test : tuple of str or None
        Inclusive ``(start, end)`` dates of each period.
    train_source, test_source : LayerSource or None
        Two files, one per period (instead of ``source``).
    """

    source: LayerSource | None = None
    date: str | None = None
    train: tuple[str, str] | None = None
    test: tuple[str, str] | None = None
    train_source: LayerSource | None = None
    test_source: LayerSource | None = None


@dataclass(frozen=True)
class GeneratorConfig:
    """One crime-generator layer; all its risk factors form one set.

    Attributes
    ----------
    name : str
        Set name, used in variable names ``<name>_dis_<d>`` / ``<name>_kde_<d>``.
    source : LayerSource
        Where the layer comes from.
    measures : tuple of {"distance", "kde"}
        Which risk factors to build.
    bandwidths : tuple of int
        Distances / kernel radii in metres.
    """

    name: str
    source: LayerSource
    measures: tuple[str, ...] = MEASURES
    bandwidths: tuple[int, ...] = DEFAULT_BANDWIDTHS


@dataclass(frozen=True)
class FeaturesConfig:
    """How risk factors are computed.

    Attributes
    ----------
    kernel : {"quartic", "gaussian"}
        Density kernel; quartic (biweight) has radius = bandwidth, Gaussian has sigma =
        bandwidth / 3 and is truncated at 3 sigma (= the bandwidth), so both reach as far.
    threshold : float
        A density dummy is 1 where the z-scored density exceeds this.
    chunk_size : int
        Units per chunk in the neighbour searches (bounds memory on large grids).
    """

    kernel: str = "quartic"
    threshold: float = 2.0
    chunk_size: int = 50_000


@dataclass(frozen=True)
class ModelConfig:
    """Which models to fit and how.

    Attributes
    ----------
    kinds : tuple of {"dl", "classical"}
    loss : {"poisson", "negbin"}
        Loss of the deep-learning RTM (the classical RTM picks Poisson or NB by BIC).
    seeds : int
        Number of deep-learning seeds trained together (stability).
    burn_in_steps, prune_steps : int
        Adam steps before and after pruning.
    learning_rate : float
    cancel_gate : bool
        Learnable per-set gate that may switch a whole set off.
    device : {"auto", "cpu", "cuda"}
    random_state : int
    cv_folds : int
        Folds of the classical RTM's penalty cross-validation.
    seed_batch : int or None
        Deep-learning seeds trained together in one batch; None: all seeds in one batch in
        process, batches of 5 on a Dask cluster (recorded in the run's config.toml, so a
        re-run trains the same batches: a seed's numbers move by ~1e-7 with its batch size).
    """

    kinds: tuple[str, ...] = MODEL_KINDS
    loss: str = "poisson"
    seeds: int = 20
    burn_in_steps: int = 10_000
    prune_steps: int = 10_000
    learning_rate: float = 1e-3
    cancel_gate: bool = False
    device: str = "auto"
    random_state: int = 0
    cv_folds: int = 5
    seed_batch: int | None = None


@dataclass(frozen=True)
class ReportConfig:
    """What the shareable HTML report may show.

    Attributes
    ----------
    include_incidents : bool
        Store the crime points in the run folder (``incidents.csv``) and show them in the
        report. Off by default: the report shows units and scores, not incident locations.
    """

    include_incidents: bool = False


@dataclass(frozen=True)
class EvaluationConfig:
    """How accuracy is measured.

    Attributes
    ----------
    area : {"measure", "count"}
        What "share of area" is a share of: the units' measure (cell or polygon area, street
        length, 1 per point unit) or the number of units (every unit counts the same, as in
        street-segment studies that flag a share of segments).
    """

    area: str = "measure"


@dataclass(frozen=True)
class HistoryConfig:
    """Crime history as fixed covariates (the DL model's fixed layer; unpenalised, always kept
    in the classical RTM).

    Attributes
    ----------
    lags : int
        Number k of windows before each target period [s, s+L): lag j covers
        [s - j*L, s - (j-1)*L). 0 = no history.
    bandwidths : tuple of int
        Per lag, crimes within each of these distances (metres) of the unit's point, beside
        the crimes in the unit itself.
    transform : {"log1p", "count"}
        log(1 + count) (default) or the raw count.
    files : tuple of LayerSource
        Without a date column: one crime file per lag before the training period (lag 1
        first); the test period's history is then the training file and lags 1 .. k-1.
    """

    lags: int = 0
    bandwidths: tuple[int, ...] = DEFAULT_HISTORY_BANDWIDTHS
    transform: str = "log1p"
    files: tuple[LayerSource, ...] = ()

    @property
    def enabled(self) -> bool:
        """Whether history enters the model (``lags > 0``)."""
        return self.lags > 0


@dataclass(frozen=True)
class BacktestConfig:
    """A rolling-origin backtest: the same study with the test period moved back.

    Attributes
    ----------
    origins : int
        Number N of origins: the test period moved back by 0 .. N-1 periods (training and
        history windows move with it).
    """

    origins: int = 3


@dataclass(frozen=True)
class PlacesConfig:
    """Where the names of places come from (the brief names the places it lists).

    Attributes
    ----------
    source : LayerSource or None
        A polygon layer of named areas (beats, neighbourhoods, districts); None: the
        boundary's polygons (grid units) or the units' own polygons.
    name : str or None
        The column holding the names; None: guessed from the column names and values
        (:func:`rtm_core.study.places.guess_name_column`); "" turns place names off.
    """

    source: LayerSource | None = None
    name: str | None = None


@dataclass(frozen=True)
class InputsConfig:
    """How a run folder keeps the inputs it read, so that it re-runs anywhere.

    Attributes
    ----------
    copy_max_mb : float
        Input files up to this size (MB) are copied into the run folder (``inputs/``);
        larger ones are referenced by absolute path, with their hash in the manifest.
    """

    copy_max_mb: float = 200.0


@dataclass(frozen=True)
class RunConfig:
    """A whole RTM run: units, outcome, generator sets, features, models and report."""

    units: UnitsConfig
    crimes: CrimesConfig
    generators: tuple[GeneratorConfig, ...]
    features: FeaturesConfig = FeaturesConfig()
    model: ModelConfig = ModelConfig()
    source: str = "<config>"
    report: ReportConfig = ReportConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    history: HistoryConfig = HistoryConfig()
    backtest: BacktestConfig = BacktestConfig()
    inputs: InputsConfig = InputsConfig()
    places: PlacesConfig = PlacesConfig()

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some top-level fields replaced."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """A JSON-friendly description (paths as strings, upload bytes left out)."""

        def clean(value):
            if dataclasses.is_dataclass(value):
                return {  # a field is written under its TOML key (``units.fixed``)
                    f.metadata.get("key", f.name): clean(getattr(value, f.name))
                    for f in dataclasses.fields(value)
                    if f.name != "data"
                }
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, tuple | list):
                return [clean(v) for v in value]
            return value

        return clean(self)


def demo_config(**model_overrides: Any) -> RunConfig:
    """The embedded Chicago demo: 150 m grid, burglary 2017 (train) / 2018 (test), six layers,
    places named by the city's neighbourhoods.

    Parameters
    ----------
    **model_overrides
        Fields of :class:`ModelConfig` to change (e.g. ``seeds=5``).
    """

    def demo(layer: str) -> LayerSource:
        return LayerSource(path=DEMO_PATH, layer=layer, name="chicago_demo.gpkg")

    layers = (
        "liquor_retail",
        "abandoned_buildings",
        "abandoned_cars",
        "graffiti",
        "sanitation",
        "street_light_outages",
    )
    return RunConfig(
        units=UnitsConfig(
            kind="grid", boundary=demo("boundary"), cell_size=150.0, crs="EPSG:26971"
        ),
        crimes=CrimesConfig(train_source=demo("burglary_2017"), test_source=demo("burglary_2018")),
        generators=tuple(GeneratorConfig(name=n, source=demo(n)) for n in layers),
        model=dataclasses.replace(ModelConfig(), **model_overrides),
        source="<demo>",
        places=PlacesConfig(source=demo("neighborhoods"), name="name"),
    )
