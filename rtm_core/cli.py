"""The ``rtm`` command: ``rtm run``, ``rtm features``, ``rtm synth``.

Errors caused by the user end with exit code 2 and one line naming the file, field and fix;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

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
    run.add_argument("--seeds", type=int, help="override model.seeds")
    run.add_argument("--burn-in-steps", type=int, help="override model.burn_in_steps")
    run.add_argument("--prune-steps", type=int, help="override model.prune_steps")
    run.add_argument("--kinds", help='override model.kinds, e.g. "dl,classical"')
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override model.device")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    features = sub.add_parser("features", help="build units and risk factors only")
    _config_args(features)
    features.add_argument(
        "--out", required=True, help="output file (.gpkg, .parquet, .geojson, .csv)"
    )

    synth = sub.add_parser("synth", help="write a synthetic city with planted risk factors")
    synth.add_argument("--out", required=True, help="folder to write")
    synth.add_argument("--seed", type=int, default=0, help="random seed")
    return parser


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
    from rtm_core.errors import ConfigError

    changes = {}
    for key in ("seeds", "burn_in_steps", "prune_steps"):
        value = getattr(args, key)
        if value is not None:
            if value <= 0:
                raise ConfigError(
                    "rtm",
                    f"--{key.replace('_', '-')}",
                    f"must be > 0, got {value}",
                    "give a positive number",
                )
            changes[key] = value
    if args.kinds:
        kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
        bad = [k for k in kinds if k not in ("dl", "classical")]
        if bad or not kinds:
            raise ConfigError(
                "rtm",
                "--kinds",
                f"unknown {bad or kinds}",
                'use "dl", "classical" or "dl,classical"',
            )
        changes["kinds"] = kinds
    if args.device:
        changes["device"] = args.device
    if not changes:
        return config
    return config.replace(model=dataclasses.replace(config.model, **changes))


def _cmd_run(args) -> int:
    from rtm_core.pipeline import run_pipeline

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
    out = run_pipeline(config, args.out, progress=progress, label=args.label)
    print(f"Run written to {Path(out).resolve()} in {time.perf_counter() - start:.1f} s")
    for name in ("report.html", "coefficients.csv", "metrics.json", "units.gpkg"):
        print(f"  {name}: {Path(out).resolve() / name}")
    return 0


def _cmd_features(args) -> int:
    from rtm_core.io import write_table
    from rtm_core.study import build_features, features_frame, load_study

    config = _large_grid(_load(args), args)
    start = time.perf_counter()
    study = load_study(config)
    factors = build_features(study, config.features)
    frame = features_frame(study, factors)
    out = Path(args.out)
    write_table(frame, out)
    print(
        f"Wrote {len(frame):,} units x {len(factors.dummy_names)} dummies "
        f"(+{len(factors.continuous_names)} continuous) to {out} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


def _cmd_synth(args) -> int:
    from rtm_core.synth import make_city, write_city

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        from rtm_core.errors import ConfigError

        raise ConfigError(
            str(out), "--out", "already exists and is not empty", "choose a new folder"
        )
    config = write_city(make_city(args.seed), out)
    print(
        f"Synthetic city (seed {args.seed}) written to {out}; config: {config}; "
        f"truth: {out / 'truth.json'}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rtm`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"run": _cmd_run, "features": _cmd_features, "synth": _cmd_synth}
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
