"""The ``rtm`` command: ``rtm run``, ``rtm features``, ``rtm check``, ``rtm synth``,
``rtm backtest``, ``rtm share``.

Errors caused by the user end with exit code 2 and one line naming the file, field and fix;
``--debug`` shows the traceback.

Who is acting: the command runs as the machine's operator, who can read and write the runs
folder anyway, so it checks no login. ``rtm share --as EMAIL`` applies the app's rule for that
user instead (only the run's owner or an admin listed in ``RTM_ADMINS`` may share), for an
operator acting on someone's behalf; every share is written to the audit log beside the run
(``audit.jsonl`` in the run's parent folder, ``RTM_RUNS_DIR`` for the app's runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from rtm_core.config import DEVICES, MODEL_KINDS
from rtm_core.errors import Cancelled, RTMError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rtm`` command."""
    parser = argparse.ArgumentParser(
        prog="rtm", description="Risk Terrain Modeling from the command line."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the whole pipeline and write a run folder")
    _config_args(run)
    run.add_argument("--out", required=True, help="run folder to create")
    run.add_argument("--label", default="", help="a name for the run")
    _owner_arg(run)
    _model_args(run)
    _cluster_args(run)

    features = sub.add_parser("features", help="build units and risk factors only")
    _config_args(features)
    features.add_argument(
        "--out", required=True, help="output file (.gpkg, .parquet, .geojson, .csv)"
    )
    _cluster_args(features)

    check = sub.add_parser("check", help="check every layer and the periods; list all problems")
    _config_args(check)

    synth = sub.add_parser("synth", help="write a synthetic city with planted risk factors")
    synth.add_argument("--out", required=True, help="folder to write")
    synth.add_argument("--seed", type=int, default=0, help="random seed")
    synth.add_argument(
        "--periods",
        type=int,
        default=2,
        help="yearly periods of crimes (default 2: training and test; more adds history years "
        "with a planted history effect, and the config uses [history] lags)",
    )
    backtest = sub.add_parser(
        "backtest", help="rolling backtest: the study with the test period moved back N times"
    )
    _config_args(backtest)
    backtest.add_argument("--out", required=True, help="backtest folder to create")
    backtest.add_argument("--origins", type=int, help="override backtest.origins (default 3)")
    backtest.add_argument(
        "--processes", type=int, help="origins run at once without Dask (default: half the cores)"
    )
    backtest.add_argument("--label", default="", help="a name for the backtest")
    _owner_arg(backtest)
    _model_args(backtest)
    _cluster_args(backtest)

    share = sub.add_parser(
        "share", help="share a run with planners, analysts or someone (or stop sharing it)"
    )
    share.add_argument("run", help="the run folder")
    share.add_argument(
        "--with",
        dest="targets",
        action="append",
        default=[],
        metavar="WHOM",
        help="planners, analysts or an e-mail address (repeat for more)",
    )
    share.add_argument(
        "--revoke",
        action="store_true",
        help="stop sharing with the --with entries (with none: share with no one)",
    )
    share.add_argument(
        "--as",
        dest="acting_as",
        metavar="EMAIL",
        help="apply the app's rule for this user (owner or admin only); default: the operator",
    )
    return parser


def _owner_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--owner",
        metavar="EMAIL",
        help="the e-mail of the run's owner (who may open, share and delete it when the app "
        "has login); default: no owner (admins only)",
    )


def _owner(args) -> str | None:
    """``--owner``, checked to be one e-mail address."""
    from rtm_core.record.access import login_email

    return None if args.owner is None else login_email(args.owner)


def _model_args(parser: argparse.ArgumentParser) -> None:
    """The model overrides and ``--quiet`` shared by ``rtm run`` and ``rtm backtest``."""
    parser.add_argument("--seeds", type=int, help="override model.seeds")
    parser.add_argument("--burn-in-steps", type=int, help="override model.burn_in_steps")
    parser.add_argument("--prune-steps", type=int, help="override model.prune_steps")
    parser.add_argument("--kinds", help='override model.kinds, e.g. "dl,classical"')
    parser.add_argument("--device", choices=DEVICES, help="override model.device")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _cluster_args(parser: argparse.ArgumentParser) -> None:
    """``--workers`` / ``--scheduler``: where the work runs (see :mod:`rtm_core.cluster`)."""
    parser.add_argument(
        "--workers",
        type=int,
        help="run the work on a local Dask cluster of this many worker processes",
    )
    parser.add_argument(
        "--scheduler",
        help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default $RTM_DASK_SCHEDULER); wins over --workers",
    )


def _client(args):
    """The Dask client context of ``--workers`` / ``--scheduler`` (None inside: in process)."""
    from rtm_core.cluster import dask_client

    return dask_client(workers=args.workers, scheduler=args.scheduler)


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="config TOML file")
    parser.add_argument("--demo", action="store_true", help="use the embedded Chicago demo")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument(
        "--allow-large-grid",
        action="store_true",
        help="confirm a grid over units.max_cells (default 1,000,000) cells, up to 10,000,000",
    )


def _large_grid(config, args):
    """``--allow-large-grid`` as a config override: ``units.max_cells`` raised to the limit."""
    from rtm_core.config import LARGE_GRID_CELLS

    if not args.allow_large_grid:
        return config
    units = dataclasses.replace(
        config.units, max_cells=max(config.units.max_cells, LARGE_GRID_CELLS)
    )
    return config.replace(units=units)


def _load(args):
    from rtm_core.config import demo_config, load_config
    from rtm_core.errors import ConfigError

    if args.demo == bool(args.config):
        raise ConfigError(
            "rtm",
            "config",
            "give a config file or --demo (not both)",
            "e.g. `rtm run --demo --out runs/demo`",
        )
    return demo_config() if args.demo else load_config(args.config)


def _with_overrides(config, args):
    """The config with ``--seeds``, ``--burn-in-steps``, ``--prune-steps``, ``--kinds`` and
    ``--device`` applied, each checked by the validator the TOML's ``[model]`` uses."""
    from rtm_core.config import validate

    changes = {}
    for key in ("seeds", "burn_in_steps", "prune_steps"):
        value = getattr(args, key)
        if value is not None:
            flag = f"--{key.replace('_', '-')}"
            changes[key] = validate.positive(value, "rtm", flag, whole=True)
    if args.kinds:
        changes["kinds"] = validate.subset(
            (k.strip() for k in args.kinds.split(",") if k.strip()),
            MODEL_KINDS,
            "rtm",
            "--kinds",
            'use "dl", "classical" or "dl,classical"',
        )
    if args.device:
        changes["device"] = validate.choice(args.device, DEVICES, "rtm", "--device")
    if not changes:
        return config
    return config.replace(model=dataclasses.replace(config.model, **changes))


def _cmd_run(args) -> int:
    from rtm_core.runs.pipeline import run_pipeline

    config = _large_grid(_with_overrides(_load(args), args), args)
    last = [-1.0]

    def progress(p):
        if args.quiet:
            return
        if p.fraction - last[0] >= 0.02 or p.phase == "done":
            last[0] = p.fraction
            loss = f" loss {p.loss:.4f}" if p.loss is not None else ""
            print(f"[{p.fraction * 100:5.1f}%] {p.message}{loss}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    owner = _owner(args)
    from rtm_core.record.folder import holds_failed_run

    if holds_failed_run(args.out):
        print(f"rtm: {args.out} holds a failed run; this run replaces it", file=sys.stderr)
    try:
        with _client(args) as client:
            out = run_pipeline(
                config, args.out, progress=progress, label=args.label, client=client, owner=owner
            )
    except RTMError as exc:
        raise _with_more_problems(exc, config, args) from None
    print(f"Run written to {Path(out).resolve()} in {time.perf_counter() - start:.1f} s")
    for name in ("report.html", "coefficients.csv", "metrics.json", "units.gpkg"):
        print(f"  {name}: {Path(out).resolve() / name}")
    forecast = json.loads((Path(out) / "manifest.json").read_text()).get("forecast") or {}
    if forecast.get("start"):
        print(
            f"  forecast {forecast['start']} – {forecast['end']} ({forecast['method']}): "
            "forecast_<model> in units.gpkg"
        )
    return 0


def _cmd_features(args) -> int:
    from rtm_core.factors.designs import build_features, features_frame
    from rtm_core.io import write_table
    from rtm_core.study.load import load_study

    config = _large_grid(_load(args), args)
    start = time.perf_counter()
    with _client(args) as client:  # first: a bad --workers/--scheduler fails at once
        study = load_study(config)
        factors = build_features(study, config.features, client=client)
    frame = features_frame(study, factors)
    out = Path(args.out)
    write_table(frame, out)
    print(
        f"Wrote {len(frame):,} units x {len(factors.dummy_names)} dummies "
        f"(+{len(factors.continuous_names)} continuous) to {out} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


def _with_more_problems(exc: RTMError, config, args) -> RTMError:
    """The first error, its fix saying how many more problems ``rtm check`` would list."""
    from rtm_core.errors import InputError

    if not isinstance(exc, InputError) or not args.config:
        return exc
    from rtm_core.study.checks import check_study, errors

    try:
        found = errors(check_study(config))
    except Exception:  # the check is a courtesy: never hide the run's own error
        return exc
    more = len(found) - 1  # the first of them is the run's own error (maybe worded otherwise)
    if more <= 0:
        return exc
    plural = "problem" if more == 1 else "problems"
    fix = f"{exc.fix} (and {more} more {plural}: run `rtm check {args.config}`)"
    return type(exc)(exc.source, exc.field, exc.problem, fix)


def _cmd_check(args) -> int:
    from rtm_core.study.checks import check_study

    config = _large_grid(_load(args), args)
    problems = check_study(config)
    n_errors = sum(p.severity == "error" for p in problems)
    for problem in problems:
        print(f"{problem.severity}: {problem}")
    n_notes = len(problems) - n_errors
    verdict = "ready to run" if n_errors == 0 else "fix the errors, then run"
    print(f"{n_errors} error(s), {n_notes} note(s): {verdict}")
    return 2 if n_errors else 0


def _cmd_synth(args) -> int:
    from rtm_core.synth import make_city, write_city

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        from rtm_core.errors import ConfigError

        raise ConfigError(
            str(out), "--out", "already exists and is not empty", "choose a new folder"
        )
    if args.periods < 2:
        from rtm_core.errors import ConfigError

        raise ConfigError(
            "rtm synth", "--periods", f"must be 2 or more, got {args.periods}", "use --periods 2"
        )
    config = write_city(make_city(args.seed, periods=args.periods), out)
    print(
        f"Synthetic city (seed {args.seed}) written to {out}; config: {config}; "
        f"truth: {out / 'truth.json'}"
    )
    return 0


def _cmd_backtest(args) -> int:
    from rtm_core.backtest.rolling import run_backtest
    from rtm_core.record.folder import BACKTEST_REPORT_FILE, BACKTEST_TABLE_FILE, ORIGINS_DIR

    config = _large_grid(_with_overrides(_load(args), args), args)
    owner = _owner(args)
    last = [-1.0, ""]

    def progress(p):
        if args.quiet:
            return
        if p.fraction - last[0] >= 0.02 or p.phase in ("origin", "done") or p.step != last[1]:
            last[:] = [p.fraction, p.step]
            done = f" [{p.step}/{p.total} origins]" if p.total else ""
            print(f"[{p.fraction * 100:5.1f}%]{done} {p.message}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    out = Path(
        run_backtest(
            config,
            args.out,
            origins=args.origins,
            workers=args.workers,
            scheduler=args.scheduler,
            processes=args.processes,
            progress=progress,
            label=args.label,
            owner=owner,
        )
    ).resolve()
    print(f"Backtest written to {out} in {time.perf_counter() - start:.1f} s")
    for name in (BACKTEST_REPORT_FILE, BACKTEST_TABLE_FILE, ORIGINS_DIR):
        print(f"  {name}: {out / name}")
    return 0


def _cmd_share(args) -> int:
    import getpass

    from rtm_core.record.access import RoleRules, User
    from rtm_core.record.sharing import read_ownership, run_folder, share_as

    run = Path(args.run)
    if args.acting_as:
        user, who = RoleRules.from_env().acting_as(args.acting_as), None
    else:  # the machine's operator, who can write the runs folder anyway
        user, who = User("", "admin", "operator"), f"operator ({getpass.getuser()})"
    if not args.revoke and not args.targets:  # nothing to change: say how it is shared
        print(f"{run.name}: {read_ownership(run_folder(run)).describe()}")
        return 0
    remove = args.targets if args.revoke else ()
    add = () if args.revoke else args.targets
    clear = args.revoke and not args.targets
    try:
        after = share_as(run, user, add=add, remove=remove, clear=clear, audit_user=who)
    except OSError as exc:  # shared, but the audit log beside the run could not be written
        print(f"rtm: warning: the audit log could not be written ({exc})", file=sys.stderr)
        after = read_ownership(run)
    print(f"{run.name}: {after.describe()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rtm`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {
        "check": _cmd_check,
        "run": _cmd_run,
        "features": _cmd_features,
        "synth": _cmd_synth,
        "backtest": _cmd_backtest,
        "share": _cmd_share,
    }
    try:
        return commands[args.command](args)
    except Cancelled:
        print("rtm: cancelled", file=sys.stderr)
        return 130
    except RTMError as exc:
        if args.debug:
            raise
        print(f"rtm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rtm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not the user's fault: still one line unless --debug
        if args.debug:
            raise
        print(
            f"rtm: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
