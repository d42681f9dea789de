"""The analyst's current data set: which layers play which role (no streamlit here).

A :class:`DataSet` is the part of a :class:`~rtm_core.config.RunConfig` the Data and Risk
factors pages edit: units (a boundary for a grid, or a units layer), crimes (one dated layer
or one layer per period), generator layers and feature settings. :func:`add_layer` checks a
new layer before it replaces anything, so a bad file never loses the previous data.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as date_
from pathlib import Path

import pandas as pd

from rtm_core.config import (
    MEASURES,
    CrimesConfig,
    FeaturesConfig,
    GeneratorConfig,
    HistoryConfig,
    LayerSource,
    ModelConfig,
    PlacesConfig,
    RunConfig,
    UnitsConfig,
    checks,
    demo_config,
    validate,
)
from rtm_core.errors import ConfigError, InputError
from rtm_core.io import Layer, parse_dates, read_layer

__all__ = [
    "ROLES",
    "DataSet",
    "add_layer",
    "generator_name",
    "parse_bandwidths",
    "summary_table",
    "suggest_periods",
    "with_factor_settings",
]

#: role key -> what the Data page calls it
ROLES = {
    "crimes": "Crimes, both periods (one file with a date column)",
    "crimes_train": "Crimes, training period (t)",
    "crimes_test": "Crimes, test period (t+1)",
    "generator": "Crime generator layer (one risk-factor set)",
    "boundary": "Study-area boundary (units = grid cells)",
    "units": "Units layer (street segments, intersections or polygons)",
    "places": "Places (optional): beats, neighbourhoods or districts that name the top places",
}
#: the place-name choice that turns names off
NO_NAMES = "(no names)"
_NAME = re.compile(r"[^A-Za-z0-9_]+")
#: names of the app's forms in messages (where the TOML names its file)
MODEL_SETTINGS = "model settings"
FACTOR_SETTINGS = "risk factor settings"


@dataclass(frozen=True)
class DataSet:
    """Layers and feature settings of one study, possibly incomplete while being edited.

    Attributes
    ----------
    name : str
        Shown in the sidebar ("Chicago demo", "my data").
    units : UnitsConfig or None
    crimes : CrimesConfig or None
    generators : tuple of GeneratorConfig
    features : FeaturesConfig
    history : HistoryConfig
        Crime history as fixed covariates (lags, bandwidths, transform); used only when the
        crimes are one file with a date column.
    places : PlacesConfig
        Where place names come from (a places layer, or the boundary's name column).
    """

    name: str
    units: UnitsConfig | None = None
    crimes: CrimesConfig | None = None
    generators: tuple[GeneratorConfig, ...] = ()
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    places: PlacesConfig = field(default_factory=PlacesConfig)

    @classmethod
    def demo(cls) -> DataSet:
        """The embedded Chicago demo (150 m grid, burglary 2017/2018, six layers)."""
        config = demo_config()
        return cls(
            "Chicago demo",
            config.units,
            config.crimes,
            config.generators,
            config.features,
            places=config.places,
        )

    def missing(self) -> list[str]:
        """What must still be added before risk factors can be built."""
        out = []
        if self.units is None:
            out.append("a study-area boundary or a units layer")
        crimes = self.crimes
        if crimes is None or (crimes.source is None and crimes.train_source is None):
            out.append("crimes")
        elif crimes.source is None and crimes.test_source is None:
            out.append("test-period crimes")
        if not self.generators:
            out.append("at least one crime generator layer")
        return out

    @property
    def dated_crimes(self) -> bool:
        """True when the crimes are one file with a date column: what crime history and a
        backtest need (earlier periods are cut from it); not with one file per period."""
        crimes = self.crimes
        return crimes is not None and crimes.source is not None and bool(crimes.date)

    @property
    def complete(self) -> bool:
        """True when units, crimes of both periods and a generator layer are present."""
        return not self.missing()

    def run_config(self, model: ModelConfig | None = None) -> RunConfig:
        """The full run configuration with ``model`` settings.

        Raises
        ------
        InputError
            The data set is incomplete (the message says what is missing).
        ConfigError
            A model setting the TOML's ``[model]`` refuses too (e.g. ``cv_folds = 1``), with
            its message (:func:`~rtm_core.config.checks.check_model`).
        """
        if model is not None:
            checks.check_model(model, MODEL_SETTINGS)
        if not self.complete:
            raise InputError(
                self.name,
                None,
                f"is missing {', '.join(self.missing())}",
                "add it on the Data page",
            )
        return RunConfig(
            units=self.units,
            crimes=self.crimes,
            generators=self.generators,
            features=self.features,
            history=self.history if self.dated_crimes else HistoryConfig(),
            model=model or ModelConfig(),
            source=self.name,
            places=self.places,
        )

    def replace(self, **changes) -> DataSet:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)

    def layers(self) -> list[tuple[str, str, LayerSource]]:
        """Every layer as ``(role, name, source)``, in the order the Data page lists them."""
        out: list[tuple[str, str, LayerSource]] = []
        if self.units is not None:
            if self.units.kind == "grid" and self.units.boundary is not None:
                out.append(("boundary", "boundary", self.units.boundary))
            elif self.units.source is not None:
                out.append(("units", "units", self.units.source))
        if self.crimes is not None:
            for role, source in (
                ("crimes", self.crimes.source),
                ("crimes_train", self.crimes.train_source),
                ("crimes_test", self.crimes.test_source),
            ):
                if source is not None:
                    out.append((role, role.replace("_", " "), source))
        out += [("generator", g.name, g.source) for g in self.generators]
        if self.places.source is not None:
            out.append(("places", "places", self.places.source))
        return out

    def without_generator(self, name: str) -> DataSet:
        """A copy without the generator layer called ``name``."""
        return self.replace(generators=tuple(g for g in self.generators if g.name != name))


def generator_name(file_name: str) -> str:
    """A valid set name from a file name: ``"Liquor Stores.csv"`` -> ``"liquor_stores"``,
    ``"bus_stops.csv.gz"`` -> ``"bus_stops"``."""
    path = Path(file_name)
    if path.suffix.lower() in (".gz", ".zip") and Path(path.stem).suffix:
        path = Path(path.stem)
    stem = _NAME.sub("_", path.stem).strip("_").lower() or "layer"
    return stem if stem[0].isalpha() else f"layer_{stem}"


def parse_bandwidths(
    text: str, source: str = "bandwidths", *, repeats: str = "drop"
) -> tuple[int, ...]:
    """Bandwidths typed as text (``"50, 100 200"``) -> sorted whole metres (``()`` if none).

    Parameters
    ----------
    text : str
        Distances separated by spaces, commas or semicolons.
    source : str
        The layer (or control) named in messages.
    repeats : {"drop", "refuse"}
        A distance typed twice is kept once, or refused as the TOML refuses it ("repeats a
        value in [100, 100]"); the Risk factors form refuses.

    Returns
    -------
    tuple of int

    Raises
    ------
    ConfigError
        What the TOML refuses, with its message (:func:`~rtm_core.config.validate.bandwidths`),
        or a token that is not a number.
    """
    validate.choice(repeats, ("drop", "refuse"), source, "repeats")
    values: list[float] = []
    for token in re.split(r"[,;\s]+", text.strip()):
        if not token:
            continue
        try:
            number = float(token)
        except ValueError:
            raise ConfigError(
                source, "bandwidths", f"{token!r} is not a number", "type metres, e.g. 150, 250"
            ) from None
        values.append(int(number) if number.is_integer() else number)
    if not values:
        return ()
    if repeats == "drop":
        values = list(dict.fromkeys(values))
    return validate.bandwidths(values, source, "bandwidths")


def add_layer(
    data: DataSet,
    role: str,
    source: LayerSource,
    *,
    name: str = "",
    date: str | None = None,
    train: tuple[str, str] | None = None,
    test: tuple[str, str] | None = None,
    id_column: str | None = None,
    fixed_columns: tuple[str, ...] = (),
    place_name: str | None = None,
    reader: Callable[[LayerSource], Layer] = read_layer,
) -> DataSet:
    """Check a new layer and return the data set with it in its role.

    Parameters
    ----------
    data : DataSet
        The current data set (left unchanged).
    role : str
        One of :data:`ROLES`.
    source : LayerSource
        The upload (bytes) or path, with layer name, CSV columns and CRS.
    name : str
        Set name of a generator layer.
    date, train, test
        Date column and ``(start, end)`` periods of a crimes layer holding both periods.
    id_column, fixed_columns
        Unit id column and fixed covariate columns of a units layer.
    place_name : str, optional
        The name column of a places layer or of a boundary of several areas
        (:data:`NO_NAMES`: no place names); None leaves it to be guessed.
    reader : callable
        Reads the layer (the app passes a cached reader).

    Returns
    -------
    DataSet

    Raises
    ------
    InputError
        The file cannot be read, has the wrong geometry for its role, lacks the date column,
        or the generator name is invalid or taken. ``str(error)`` is one line with the fix.
    """
    if role not in ROLES:
        raise InputError(
            source.label, "role", f"unknown role {role!r}", "pick a role from the list"
        )
    layer = reader(source)
    family = layer.geom_type
    label = layer.report.source
    if role.startswith("crimes") and family != "point":
        raise InputError(
            label, "geometry", f"crimes must be points, got {family}s", "upload points"
        )
    if role == "boundary" and family != "polygon":
        raise InputError(
            label, "geometry", f"a boundary must be a polygon, got {family}s", "upload the area"
        )
    if role == "places" and family != "polygon":
        raise InputError(
            label,
            "geometry",
            f"a places layer must hold polygons, got {family}s",
            "upload the named areas (beats, neighbourhoods) as polygons",
        )
    if place_name not in (None, NO_NAMES) and place_name not in layer.frame.columns:
        raise InputError(
            label, "place name column", "column not found", "pick one of the layer's columns"
        )
    if role == "places":
        name = "" if place_name == NO_NAMES else place_name
        return data.replace(places=PlacesConfig(source=source, name=name))
    if role == "crimes":
        from rtm_core.study.load import split_periods

        if not date:
            raise InputError(
                label,
                "date",
                "no date column chosen",
                "choose the date column, or upload one file per period",
            )
        if train is None or test is None:
            raise InputError(label, "periods", "training and test periods are needed", "set both")
        split_periods(layer.frame, date, train, test, source=label)
        crimes = CrimesConfig(source=source, date=date, train=train, test=test)
        return data.replace(crimes=crimes)
    if role in ("crimes_train", "crimes_test"):
        old = data.crimes if data.crimes is not None and data.crimes.source is None else None
        old = old or CrimesConfig()
        key = "train_source" if role == "crimes_train" else "test_source"
        return data.replace(crimes=dataclasses.replace(old, **{key: source}))
    if role == "boundary":
        cell = data.units.cell_size if data.units is not None else UnitsConfig.cell_size
        units = UnitsConfig(kind="grid", boundary=source, cell_size=cell)
        places = data.places
        if places.source is None and place_name is not None:  # a places layer names first
            places = PlacesConfig(name="" if place_name == NO_NAMES else place_name)
        return data.replace(units=units, places=places)
    if role == "units":
        missing = [c for c in (id_column, *fixed_columns) if c and c not in layer.frame.columns]
        if missing:
            raise InputError(
                label, missing[0], "column not found", "pick one of the layer's columns"
            )
        units = UnitsConfig(
            kind="file", source=source, id_column=id_column or None, fixed_columns=fixed_columns
        )
        return data.replace(units=units)
    name = name.strip()
    if not name or not name[0].isalpha() or _NAME.search(name):
        raise InputError(
            label, "name", f"{name!r} is not a simple set name", "use letters, digits and _ only"
        )
    if any(g.name == name for g in data.generators):
        raise InputError(
            label, "name", f"a layer called {name!r} is already loaded", "choose another name"
        )
    return data.replace(generators=(*data.generators, GeneratorConfig(name=name, source=source)))


def summary_table(entries: list[tuple[str, str, Layer]]) -> pd.DataFrame:
    """One row per layer: role, name, geometry, rows read/dropped/kept and why, CRS, extent.

    The extent is the lon/lat bounding box ``[west, south, east, north]``.
    """
    rows = []
    for role, name, layer in entries:
        report = layer.report
        west, south, east, north = layer.lonlat_bounds
        why = ""
        if report.n_dropped:
            why = "missing, empty or non-finite coordinates"
        rows.append(
            {
                "role": ROLES[role].split(" (")[0],
                "name": name,
                "file": report.source,
                "geometry": layer.geom_type,
                "rows read": report.n_read,
                "dropped": report.n_dropped,
                "why dropped": why,
                "kept": report.n_kept,
                "CRS": report.crs,
                "extent (lon/lat)": f"{west:.4f}, {south:.4f}, {east:.4f}, {north:.4f}",
                "note": report.note,
            }
        )
    return pd.DataFrame(rows)


def suggest_periods(frame, date: str) -> tuple[tuple[date_, date_], tuple[date_, date_]] | None:
    """Training and test periods that split a layer's date range in two halves (or None)."""
    if date not in frame.columns:
        return None
    when = parse_dates(frame[date]).dropna()
    if when.empty:
        return None
    start, end = when.min().normalize(), when.max().normalize()
    middle = start + (end - start) / 2
    middle = middle.normalize()
    if middle <= start:
        return None
    train = (start.date(), middle.date())
    test = ((middle + pd.Timedelta(days=1)).date(), end.date())
    return train, test


def with_factor_settings(
    data: DataSet,
    *,
    units: dict,
    kernel: str,
    threshold: float,
    generators: dict[str, tuple[tuple[str, ...], tuple[int, ...]]],
    history: HistoryConfig | None = None,
) -> DataSet:
    """The data set with the Risk factors page's settings.

    Parameters
    ----------
    data : DataSet
    units : dict
        Fields of :class:`~rtm_core.config.UnitsConfig` to change (cell_size, keep, fixed_columns,
        snap_distance).
    kernel : {"quartic", "gaussian"}
    threshold : float
        z-score above which a density dummy is 1.
    generators : dict
        Set name -> (measures, bandwidths).
    history : HistoryConfig, optional
        Crime history settings (unchanged when None).

    Returns
    -------
    DataSet

    Raises
    ------
    ConfigError
        What the TOML refuses, with its message: a layer with no measure or no bandwidth,
        a bandwidth listed twice, a cell size not > 0, a threshold that is not a number.
    """
    new_generators = []
    for generator in data.generators:
        measures, bandwidths = generators.get(
            generator.name, (generator.measures, generator.bandwidths)
        )
        fix = "choose distance and/or density"
        measures = validate.subset(measures, MEASURES, generator.name, "measures", fix)
        bandwidths = validate.bandwidths(bandwidths, generator.name)
        new_generators.append(
            dataclasses.replace(generator, measures=measures, bandwidths=bandwidths)
        )
    new_units = checks.check_units(dataclasses.replace(data.units, **units), FACTOR_SETTINGS)
    features = dataclasses.replace(data.features, kernel=kernel, threshold=threshold)
    return data.replace(
        units=new_units,
        features=checks.check_features(features, FACTOR_SETTINGS),
        generators=tuple(new_generators),
        history=data.history if history is None else history,
    )
