"""Reading a run configuration from TOML, with errors that name the file, the key and the fix."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from rtm_core.config import checks, validate
from rtm_core.config.settings import (
    AREAS,
    DEFAULT_HISTORY_BANDWIDTHS,
    DEVICES,
    HISTORY_TRANSFORMS,
    KEEP,
    KERNELS,
    LOSSES,
    MEASURES,
    MODEL_KINDS,
    UNIT_KINDS,
    BacktestConfig,
    CrimesConfig,
    EvaluationConfig,
    FeaturesConfig,
    GeneratorConfig,
    HistoryConfig,
    InputsConfig,
    ModelConfig,
    PlacesConfig,
    ReportConfig,
    RunConfig,
    UnitsConfig,
)
from rtm_core.config.table import (
    SOURCE_KEYS,
    Table,
    read_bandwidths,
    read_boundary,
    read_finite,
    read_layer_source,
    read_names,
    read_period,
)
from rtm_core.errors import ConfigError
from rtm_core.periods import Period, period_length


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
    top = Table(data, "", file, base or Path.cwd())
    top.check_unknown(
        {"units", "crimes", "generators", "features", "model", "report", "evaluation"}
        | {"history", "backtest", "inputs", "places"}
    )
    units = _units(top.section("units", required=True))
    crimes = _crimes(top.section("crimes", required=True))
    generators = _generators(top)
    features = _features(top.section("features"))
    model = _model(top.section("model"))
    report = _report(top.section("report"))
    evaluation = _evaluation(top.section("evaluation"))
    inputs = _inputs(top.section("inputs"))
    return RunConfig(
        units,
        crimes,
        generators,
        features,
        model,
        file,
        report,
        evaluation,
        inputs=inputs,
        history=_history(top.section("history"), crimes),
        backtest=_backtest(top.section("backtest")),
        places=_places(top.section("places")),
    )


def _units(units: Table) -> UnitsConfig:
    """``[units]``: a grid over a boundary, or units from a file."""
    d = UnitsConfig
    kind = units.choice("kind", UNIT_KINDS, d.kind)
    cfg = UnitsConfig(
        kind=kind,
        boundary=read_boundary(units, kind),
        cell_size=units.positive("cell_size", d.cell_size),
        keep=units.choice("keep", KEEP, d.keep),
        source=read_layer_source(units, required=True) if kind == "file" else None,
        id_column=units.get("id", str),
        fixed_columns=read_names(units, "fixed"),
        snap_distance=units.positive("snap_distance", d.snap_distance),
        crs=units.get("crs", str),
        max_cells=units.positive("max_cells", d.max_cells, integer=True),
    )
    units.check_unknown(
        {"kind", "boundary", "boundary_layer", "cell_size", "keep", "id", "fixed"}
        | {"snap_distance", "crs", "max_cells"}
        | (SOURCE_KEYS if kind == "file" else set())
    )
    return cfg


def _crimes(crimes: Table) -> CrimesConfig:
    """``[crimes]``: one dated file and two periods, or one file per period."""
    if crimes.has("file"):
        cfg = CrimesConfig(
            source=read_layer_source(crimes),
            date=crimes.get(
                "date",
                str,
                required=True,
                fix="name the date column, or use train_file and test_file",
            ),
            train=read_period(crimes, "train"),
            test=read_period(crimes, "test"),
        )
        if cfg.train is None or cfg.test is None:
            missing = "train" if cfg.train is None else "test"
            raise crimes.error(missing, "is missing", f'add `{missing} = ["start", "end"]`')
    elif crimes.has("train_file") and crimes.has("test_file"):
        cfg = CrimesConfig(
            train_source=read_layer_source(crimes, "train_"),
            test_source=read_layer_source(crimes, "test_"),
        )
    else:
        raise crimes.error(
            "file", "is missing", "give `file` (with date, train, test) or train_file and test_file"
        )
    crimes.check_unknown(
        SOURCE_KEYS
        | {"date", "train", "test", "train_file", "test_file"}
        | {"train_layer", "test_layer"}
    )
    return cfg


def _generators(top: Table) -> tuple[GeneratorConfig, ...]:
    """``[[generators]]``: one table per layer, each a set with a unique simple name."""
    generators = []
    raw_generators = top.get("generators", list, required=True, fix="add [[generators]] tables")
    if not raw_generators:
        raise top.error("generators", "is empty", "add at least one [[generators]] table")
    for i, raw in enumerate(raw_generators):
        if not isinstance(raw, dict):
            raise top.error("generators", "must be tables", "write each as [[generators]]")
        table = Table(raw, f"generators[{i}]", top.file, top.base)
        name = table.get("name", str, required=True, fix="give each generator a short name")
        if not name.replace("_", "").isalnum() or not name[0].isalpha():
            raise table.error(
                "name", f"{name!r} is not a simple name", "use letters, digits and _ only"
            )
        measures = validate.subset(
            table.get("measures", list, list(MEASURES)),
            MEASURES,
            table.file,
            table.field("measures"),
            "use distance and/or kde",
        )
        generators.append(
            GeneratorConfig(
                name=name,
                source=read_layer_source(table),
                measures=measures,
                bandwidths=read_bandwidths(table),
            )
        )
        table.check_unknown(SOURCE_KEYS | {"name", "measures", "bandwidths"})
    names = [g.name for g in generators]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise top.error(
            "generators", f"name {dupes[0]!r} is used twice", "give each layer its own name"
        )
    return tuple(generators)


def _features(feats: Table) -> FeaturesConfig:
    """``[features]``: density kernel, dummy threshold, chunk size."""
    d = FeaturesConfig
    cfg = FeaturesConfig(
        kernel=feats.choice("kernel", KERNELS, d.kernel),
        threshold=read_finite(feats, "threshold", d.threshold),
        chunk_size=feats.positive("chunk_size", d.chunk_size, integer=True),
    )
    feats.check_unknown({"kernel", "threshold", "chunk_size"})
    return cfg


def _model(model: Table) -> ModelConfig:
    """``[model]``: which RTMs, loss, seeds, steps, device."""
    d = ModelConfig
    kinds = validate.subset(
        model.get("kinds", list, list(d.kinds)),
        MODEL_KINDS,
        model.file,
        model.field("kinds"),
        'use "dl" and/or "classical"',
    )
    cfg = ModelConfig(
        kinds=kinds,
        loss=model.choice("loss", LOSSES, d.loss),
        seeds=model.positive("seeds", d.seeds, integer=True),
        burn_in_steps=model.positive("burn_in_steps", d.burn_in_steps, integer=True),
        prune_steps=model.positive("prune_steps", d.prune_steps, integer=True),
        learning_rate=model.positive("learning_rate", d.learning_rate),
        cancel_gate=model.get("cancel_gate", bool, d.cancel_gate),
        device=model.choice("device", DEVICES, d.device),
        random_state=model.get("random_state", int, d.random_state),
        cv_folds=model.positive("cv_folds", d.cv_folds, integer=True),
        seed_batch=(
            model.positive("seed_batch", None, integer=True) if "seed_batch" in model.data else None
        ),
    )
    model.check_unknown({f.name for f in dataclasses.fields(ModelConfig)})
    checks.check_model(cfg, model.file, "model.")  # the ranges the estimators need too
    return cfg


def _report(report: Table) -> ReportConfig:
    """``[report]``: what the shareable report may show."""
    cfg = ReportConfig(
        include_incidents=report.get("include_incidents", bool, ReportConfig.include_incidents)
    )
    report.check_unknown({"include_incidents"})
    return cfg


def _evaluation(evaluation: Table) -> EvaluationConfig:
    """``[evaluation]``: share of area by unit measure or by unit count."""
    cfg = EvaluationConfig(area=evaluation.choice("area", AREAS, EvaluationConfig.area))
    evaluation.check_unknown({"area"})
    return cfg


def _backtest(table: Table) -> BacktestConfig:
    """``[backtest]``: number of rolling origins."""
    cfg = BacktestConfig(origins=table.positive("origins", BacktestConfig.origins, integer=True))
    table.check_unknown({"origins"})
    return cfg


def _history(table: Table, crimes: CrimesConfig) -> HistoryConfig:
    """``[history]``: lags, bandwidths, transform and (without dates) one file per lag."""
    lags = validate.integer(
        table.data.get("lags", 0),
        table.file,
        table.field("lags"),
        minimum=0,
        kind="a positive integer",
        fix="set `lags = 1` (the period before) or more; 0 or leave it out for no history",
    )
    table.used.add("lags")
    files = []
    for i, item in enumerate(table.get("files", list, [])):
        if isinstance(item, str):
            item = {"file": item}
        if not isinstance(item, dict):
            raise table.error(
                "files", f"entry {i} must be a path or a table", 'write `files = ["lag1.csv"]`'
            )
        entry = Table(item, f"{table.where}.files[{i}]", table.file, table.base)
        source = read_layer_source(entry)
        crimes_source = crimes.train_source or crimes.source
        if crimes_source is not None:  # x, y and crs as for the crimes unless given
            source = dataclasses.replace(
                source,
                x=source.x or crimes_source.x,
                y=source.y or crimes_source.y,
                crs=source.crs or crimes_source.crs,
            )
        files.append(source)
        entry.check_unknown(SOURCE_KEYS)
    cfg = HistoryConfig(
        lags=lags,
        bandwidths=read_bandwidths(table, DEFAULT_HISTORY_BANDWIDTHS),
        transform=table.choice("transform", HISTORY_TRANSFORMS, HistoryConfig.transform),
        files=tuple(files),
    )
    table.check_unknown({"lags", "bandwidths", "transform", "files"})
    if not cfg.enabled:
        return cfg
    if crimes.source is None and not files:
        raise table.error(
            "lags",
            "needs crimes before the training period, but the crimes have no date column",
            "give one crimes file with a date column (crimes.file, date, train, test), "
            "or one history file per lag (history.files, lag 1 first)",
        )
    if files and len(files) != lags:
        raise table.error(
            "files",
            f"lists {len(files)} file(s) for {lags} lag(s)",
            "give exactly one history file per lag (lag 1, the period before training, first)",
        )
    if crimes.source is not None and crimes.train and crimes.test:
        _check_equal_periods(table, crimes)
    return cfg


def _check_equal_periods(table: Table, crimes: CrimesConfig) -> None:
    """With history, training and test periods must have the same length (months or days)."""
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


def _places(table: Table) -> PlacesConfig:
    """``[places]``: a polygon layer of named areas (or the boundary's own) and its name
    column (guessed when left out; ``name = ""`` turns place names off)."""
    source = read_layer_source(table, required=False)
    name = validate.column_name(
        table.get("name", str), table.file, table.field("name"), empty_means="no place names"
    )
    table.check_unknown({"file", "layer", "crs", "name"})
    if source is None and table.has("layer"):
        raise table.error("layer", "needs a file", "add `file = ...` or remove `layer`")
    return PlacesConfig(source=source, name=name)


def _inputs(table: Table) -> InputsConfig:
    """``[inputs]``: how a run folder keeps its input files."""
    cfg = InputsConfig(copy_max_mb=table.positive("copy_max_mb", InputsConfig.copy_max_mb))
    table.check_unknown({"copy_max_mb"})
    return cfg


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
