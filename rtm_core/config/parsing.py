"""Reading a run configuration from TOML, with errors that name the file, the key and the fix."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

from rtm_core.config.settings import (
    AREAS,
    DEFAULT_BANDWIDTHS,
    DEFAULT_HISTORY_BANDWIDTHS,
    DEMO_PATH,
    DEVICES,
    HISTORY_TRANSFORMS,
    KERNELS,
    LOSSES,
    MAX_GRID_CELLS,
    MEASURES,
    MODEL_KINDS,
    BacktestConfig,
    CrimesConfig,
    EvaluationConfig,
    FeaturesConfig,
    GeneratorConfig,
    HistoryConfig,
    InputsConfig,
    LayerSource,
    ModelConfig,
    ReportConfig,
    RunConfig,
    UnitsConfig,
)
from rtm_core.errors import ConfigError


class _Table:
    """A TOML table with typed getters whose errors name the file and key."""

    def __init__(self, data: dict, where: str, file: str, base: Path):
        self.data, self.where, self.file, self.base = data, where, file, base
        self.used: set[str] = set()

    def _error(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(self.file, f"{self.where}.{key}" if self.where else key, problem, fix)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type | tuple, default=None, *, required=False, fix=""):
        self.used.add(key)
        if key not in self.data:
            if required:
                default_fix = (
                    f"add `{key} = ...` to [{self.where}]" if self.where else f"add a [{key}] table"
                )
                raise self._error(key, "is missing", fix or default_fix)
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise self._error(
                key,
                f"must be {_kind_name(kinds)}, got {value!r}",
                fix or f"write `{key}` as {_kind_name(kinds)}",
            )
        if not isinstance(value, kinds):
            raise self._error(
                key,
                f"must be {_kind_name(kinds)}, got {type(value).__name__} {value!r}",
                fix or f"write `{key}` as {_kind_name(kinds)}",
            )
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in options:
            raise self._error(
                key, f"unknown value {value!r}", f"use one of {', '.join(map(repr, options))}"
            )
        return value

    def positive(self, key: str, default, *, integer=False):
        value = self.get(key, int if integer else float, default)
        if not (math.isfinite(value) and value > 0):
            raise self._error(key, f"must be > 0, got {value!r}", f"set a positive `{key}`")
        return value

    def path(self, key: str, *, required=False) -> Path | None:
        value = self.get(key, str, None, required=required, fix=f"set `{key}` to a file path")
        if value is None:
            return None
        path = Path(value)
        if str(path).startswith("<demo>"):
            return DEMO_PATH
        return path if path.is_absolute() else (self.base / path)

    def check_unknown(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise self._error(
                unknown[0],
                "unknown key",
                f"remove it or use one of {', '.join(sorted(allowed))}",
            )


def _kind_name(kinds: tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    names |= {list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


_SOURCE_KEYS = {"file", "layer", "x", "y", "crs"}


def _layer_source(table: _Table, prefix: str = "", *, required=True) -> LayerSource | None:
    path = table.path(f"{prefix}file", required=required)
    if path is None:
        return None
    return LayerSource(
        path=path,
        layer=table.get(f"{prefix}layer", str),
        x=table.get("x", str),
        y=table.get("y", str),
        crs=table.get("crs", str),
        name=path.name,
    )


def _period(table: _Table, key: str) -> tuple[str, str] | None:
    value = table.get(key, list)
    if value is None:
        return None
    if len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise table._error(
            key,
            f"must be two dates, got {value!r}",
            f'write `{key} = ["2021-01-01", "2021-12-31"]`',
        )
    return (value[0], value[1])


def _bandwidths(table: _Table, default=DEFAULT_BANDWIDTHS) -> tuple[int, ...]:
    value = table.get("bandwidths", list, list(default))
    if not value:
        raise table._error("bandwidths", "is empty", "list at least one distance in metres")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise table._error("bandwidths", f"{item!r} is not a number", "use metres, e.g. 200")
        if item <= 0:
            raise table._error(
                "bandwidths", f"must be > 0 metres, got {item!r}", "use positive distances"
            )
        if item != int(item):
            raise table._error(
                "bandwidths", f"must be whole metres, got {item!r}", "round to an integer"
            )
        out.append(int(item))
    if len(set(out)) != len(out):
        raise table._error("bandwidths", f"repeats a value in {out}", "list each distance once")
    if max(out) > 20_000:
        raise table._error(
            "bandwidths",
            f"{max(out)} m is over 20 km (feet by mistake?)",
            "give bandwidths in metres (1 ft = 0.3048 m)",
        )
    return tuple(sorted(out))


def parse_config(data: dict, *, file: str = "<config>", base: Path | None = None) -> RunConfig:
    """Build a :class:`RunConfig` from a parsed TOML mapping.

    Parameters
    ----------
    data : dict
        The TOML document.
    file : str
        Name used in error messages.
    base : Path
        Folder that relative paths are relative to.

    Returns
    -------
    RunConfig
    """
    base = base or Path.cwd()
    top = _Table(data, "", file, base)
    top.check_unknown(
        {"units", "crimes", "generators", "features", "model", "report", "evaluation"}
        | {"history", "backtest", "inputs"}
    )

    units = _Table(top.get("units", dict, required=True), "units", file, base)
    kind = units.choice("kind", ("grid", "file"), "grid")
    units_cfg = UnitsConfig(
        kind=kind,
        boundary=_boundary(units, kind),
        cell_size=units.positive("cell_size", 150.0),
        keep=units.choice("keep", ("centre", "intersect"), "centre"),
        source=_layer_source(units, required=True) if kind == "file" else None,
        id_column=units.get("id", str),
        fixed=_names(units, "fixed"),
        snap_distance=units.positive("snap_distance", 50.0),
        crs=units.get("crs", str),
        max_cells=units.positive("max_cells", MAX_GRID_CELLS, integer=True),
    )
    units.check_unknown(
        {"kind", "boundary", "boundary_layer", "cell_size", "keep", "id", "fixed"}
        | {"snap_distance", "crs", "max_cells"}
        | (_SOURCE_KEYS if kind == "file" else set())
    )

    crimes = _Table(top.get("crimes", dict, required=True), "crimes", file, base)
    if crimes.has("file"):
        crimes_cfg = CrimesConfig(
            source=_layer_source(crimes),
            date=crimes.get(
                "date",
                str,
                required=True,
                fix="name the date column, or use train_file and test_file",
            ),
            train=_period(crimes, "train"),
            test=_period(crimes, "test"),
        )
        if crimes_cfg.train is None or crimes_cfg.test is None:
            missing = "train" if crimes_cfg.train is None else "test"
            raise crimes._error(missing, "is missing", f'add `{missing} = ["start", "end"]`')
    elif crimes.has("train_file") and crimes.has("test_file"):
        crimes_cfg = CrimesConfig(
            train_source=_split_source(crimes, "train_"),
            test_source=_split_source(crimes, "test_"),
        )
    else:
        raise crimes._error(
            "file", "is missing", "give `file` (with date, train, test) or train_file and test_file"
        )
    crimes.check_unknown(
        _SOURCE_KEYS
        | {"date", "train", "test", "train_file", "test_file"}
        | {"train_layer", "test_layer"}
    )

    generators = []
    raw_generators = top.get("generators", list, required=True, fix="add [[generators]] tables")
    if not raw_generators:
        raise top._error("generators", "is empty", "add at least one [[generators]] table")
    for i, raw in enumerate(raw_generators):
        if not isinstance(raw, dict):
            raise top._error("generators", "must be tables", "write each as [[generators]]")
        table = _Table(raw, f"generators[{i}]", file, base)
        name = table.get("name", str, required=True, fix="give each generator a short name")
        if not name.replace("_", "").isalnum() or not name[0].isalpha():
            raise table._error(
                "name", f"{name!r} is not a simple name", "use letters, digits and _ only"
            )
        measures = tuple(table.get("measures", list, list(MEASURES)))
        bad = [m for m in measures if m not in MEASURES]
        if bad or not measures:
            raise table._error(
                "measures", f"unknown {bad or measures!r}", "use distance and/or kde"
            )
        generators.append(
            GeneratorConfig(
                name=name,
                source=_layer_source(table),
                measures=measures,
                bandwidths=_bandwidths(table),
            )
        )
        table.check_unknown(_SOURCE_KEYS | {"name", "measures", "bandwidths"})
    names = [g.name for g in generators]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise top._error(
            "generators", f"name {dupes[0]!r} is used twice", "give each layer its own name"
        )

    feats = _Table(top.get("features", dict, {}), "features", file, base)
    features_cfg = FeaturesConfig(
        kernel=feats.choice("kernel", KERNELS, "quartic"),
        threshold=_finite(feats, "threshold", 2.0),
        chunk_size=feats.positive("chunk_size", 50_000, integer=True),
    )
    feats.check_unknown({"kernel", "threshold", "chunk_size"})

    model = _Table(top.get("model", dict, {}), "model", file, base)
    kinds = tuple(model.get("kinds", list, list(MODEL_KINDS)))
    bad = [k for k in kinds if k not in MODEL_KINDS]
    if bad or not kinds:
        raise model._error("kinds", f"unknown {bad or kinds!r}", 'use "dl" and/or "classical"')
    model_cfg = ModelConfig(
        kinds=kinds,
        loss=model.choice("loss", LOSSES, "poisson"),
        seeds=model.positive("seeds", 20, integer=True),
        burn_in_steps=model.positive("burn_in_steps", 10_000, integer=True),
        prune_steps=model.positive("prune_steps", 10_000, integer=True),
        learning_rate=model.positive("learning_rate", 1e-3),
        cancel_gate=model.get("cancel_gate", bool, False),
        device=model.choice("device", DEVICES, "auto"),
        random_state=model.get("random_state", int, 0),
        cv_folds=model.positive("cv_folds", 5, integer=True),
    )
    model.check_unknown({f.name for f in dataclasses.fields(ModelConfig)})

    report = _Table(top.get("report", dict, {}), "report", file, base)
    report_cfg = ReportConfig(include_incidents=report.get("include_incidents", bool, False))
    report.check_unknown({"include_incidents"})
    evaluation = _Table(top.get("evaluation", dict, {}), "evaluation", file, base)
    evaluation_cfg = EvaluationConfig(area=evaluation.choice("area", AREAS, "measure"))
    evaluation.check_unknown({"area"})
    inputs_cfg = _inputs(_Table(top.get("inputs", dict, {}), "inputs", file, base))
    return RunConfig(
        units_cfg,
        crimes_cfg,
        tuple(generators),
        features_cfg,
        model_cfg,
        file,
        report_cfg,
        evaluation_cfg,
        inputs=inputs_cfg,
        history=_history(_Table(top.get("history", dict, {}), "history", file, base), crimes_cfg),
        backtest=_backtest(_Table(top.get("backtest", dict, {}), "backtest", file, base)),
    )


def _backtest(table: _Table) -> BacktestConfig:
    """``[backtest]``: number of rolling origins."""
    cfg = BacktestConfig(origins=table.positive("origins", 3, integer=True))
    table.check_unknown({"origins"})
    return cfg


def _history(table: _Table, crimes: CrimesConfig) -> HistoryConfig:
    """``[history]``: lags, bandwidths, transform and (without dates) one file per lag."""
    lags = table.data.get("lags", 0)
    table.used.add("lags")
    if isinstance(lags, bool) or not isinstance(lags, int) or lags < 0:
        raise table._error(
            "lags",
            f"must be a positive integer, got {lags!r}",
            "set `lags = 1` (the period before) or more; 0 or leave it out for no history",
        )
    files = []
    for i, item in enumerate(table.get("files", list, [])):
        if isinstance(item, str):
            item = {"file": item}
        if not isinstance(item, dict):
            raise table._error(
                "files", f"entry {i} must be a path or a table", 'write `files = ["lag1.csv"]`'
            )
        entry = _Table(item, f"{table.where}.files[{i}]", table.file, table.base)
        source = _layer_source(entry)
        crimes_source = crimes.train_source or crimes.source
        if crimes_source is not None:  # x, y and crs as for the crimes unless given
            source = dataclasses.replace(
                source,
                x=source.x or crimes_source.x,
                y=source.y or crimes_source.y,
                crs=source.crs or crimes_source.crs,
            )
        files.append(source)
        entry.check_unknown(_SOURCE_KEYS)
    cfg = HistoryConfig(
        lags=lags,
        bandwidths=_bandwidths(table, DEFAULT_HISTORY_BANDWIDTHS),
        transform=table.choice("transform", HISTORY_TRANSFORMS, "log1p"),
        files=tuple(files),
    )
    table.check_unknown({"lags", "bandwidths", "transform", "files"})
    if not cfg.enabled:
        return cfg
    if crimes.source is None and not files:
        raise table._error(
            "lags",
            "needs crimes before the training period, but the crimes have no date column",
            "give one crimes file with a date column (crimes.file, date, train, test), "
            "or one history file per lag (history.files, lag 1 first)",
        )
    if files and len(files) != lags:
        raise table._error(
            "files",
            f"lists {len(files)} file(s) for {lags} lag(s)",
            "give exactly one history file per lag (lag 1, the period before training, first)",
        )
    if crimes.source is not None and crimes.train and crimes.test:
        _check_equal_periods(table, crimes)
    return cfg


def _check_equal_periods(table: _Table, crimes: CrimesConfig) -> None:
    """With history, training and test periods must have the same length (months or days)."""
    from rtm_core.periods import Period, period_length

    try:
        train, test = Period.from_config(crimes.train), Period.from_config(crimes.test)
    except (ValueError, TypeError):
        return  # unreadable dates are reported with the crimes file, by load_study
    a, b = period_length(train), period_length(test)
    if a != b:
        raise ConfigError(
            table.file,
            "crimes.test",
            f"with history the periods must be equally long: training {train.label()} lasts "
            f"{a.describe()}, test {test.label()} lasts {b.describe()}",
            "give the training and test periods the same length (e.g. two calendar years)",
        )


def _inputs(table: _Table) -> InputsConfig:
    """``[inputs]``: how a run folder keeps its input files."""
    cfg = InputsConfig(copy_max_mb=table.positive("copy_max_mb", InputsConfig.copy_max_mb))
    table.check_unknown({"copy_max_mb"})
    return cfg


def _finite(table: _Table, key: str, default: float) -> float:
    value = table.get(key, float, default)
    if not math.isfinite(value):
        raise table._error(key, f"must be a finite number, got {value!r}", f"set e.g. `{key} = 2`")
    return value


def _names(table: _Table, key: str) -> tuple[str, ...]:
    value = table.get(key, list, [])
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise table._error(
            key, f"must list column names, got {bad[0]!r}", f'write `{key} = ["column", ...]`'
        )
    if len(set(value)) != len(value):
        raise table._error(key, f"repeats a column in {value}", "list each column once")
    return tuple(value)


def _boundary(units: _Table, kind: str) -> LayerSource | None:
    path = units.path("boundary", required=kind == "grid")
    if path is None:
        return None
    return LayerSource(path=path, layer=units.get("boundary_layer", str), name=path.name)


def _split_source(table: _Table, prefix: str) -> LayerSource:
    path = table.path(f"{prefix}file", required=True)
    return LayerSource(
        path=path,
        layer=table.get(f"{prefix}layer", str),
        x=table.get("x", str),
        y=table.get("y", str),
        crs=table.get("crs", str),
        name=path.name,
    )


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML run configuration.

    Parameters
    ----------
    path : str or Path
        The config file; relative paths inside it are relative to its folder.

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        Unreadable file, TOML syntax error, unknown key, wrong type or bad value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found", "check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            str(path), None, f"cannot be read ({exc})", "save it as UTF-8 text"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), None, f"is not valid TOML ({exc})", "fix the syntax") from None
    return parse_config(data, file=path.name, base=path.resolve().parent)
