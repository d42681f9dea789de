"""Time the acceptance backtest (issue 8) and say whether the RTM beats the hot spots.

The study is ``bench/chicago_assaults.toml`` (Chicago aggravated assaults, 150 m grid, six
generator layers, train 2017 / test 2018, ``[history] lags = 2``); the backtest moves it back
to test years 2017 and 2016 (3 origins). Printed: total time, time per origin, mean PAI at
5 % per model and baseline over the origins, and whether the better RTM's mean reaches the
best hot-spot baseline's mean (prior counts, prior counts over the lags, KDE). With
``--compare`` the same backtest runs again with origins in 2 processes and the ratio of the
two wall-clock times is printed.

Usage::

    .venv/bin/python bench/backtest.py                          # the config's model settings
    .venv/bin/python bench/backtest.py --seeds 5 --steps 3000   # quicker DL (CPU)
    .venv/bin/python bench/backtest.py --seeds 5 --steps 3000 --compare
    .venv/bin/python bench/backtest.py --processes 2            # two origins at once
    .venv/bin/python bench/backtest.py --workers 2              # origins on a local Dask cluster

``--steps N`` sets both ``burn_in_steps`` and ``prune_steps``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import with_model_overrides  # noqa: E402
from rtm_core.backtest.report import (  # noqa: E402
    load_backtest,
    read_csv,
    summary_table,
    verdict,
)
from rtm_core.backtest.rolling import run_backtest  # noqa: E402
from rtm_core.config import load_config  # noqa: E402

CONFIG = ROOT / "bench" / "chicago_assaults.toml"


def _config(args):
    return with_model_overrides(load_config(args.config), args.seeds, args.steps)


def _progress(tag: str):
    last = [-1.0]

    def report(p) -> None:
        if p.fraction - last[0] >= 0.05 or p.phase in ("origin", "done"):
            last[0] = p.fraction
            print(f"  [{tag} {p.fraction * 100:5.1f}%] {p.message}", file=sys.stderr, flush=True)

    return report


def _run(config, out: Path, args, *, processes: int, tag: str) -> float:
    start = time.perf_counter()
    run_backtest(
        config,
        out,
        origins=args.origins,
        processes=processes,
        workers=args.workers if tag == "main" else None,
        progress=_progress(tag),
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--origins", type=int, default=3)
    parser.add_argument("--seeds", type=int, help="override model.seeds")
    parser.add_argument("--steps", type=int, help="override burn-in and prune steps")
    parser.add_argument("--workers", type=int, help="run the origins on a local Dask cluster")
    parser.add_argument(
        "--processes", type=int, default=1, help="origins at once without Dask (default 1)"
    )
    parser.add_argument(
        "--compare", action="store_true", help="also run with 2 processes; print the ratio"
    )
    parser.add_argument("--keep", help="write the backtest here (default: a temporary folder)")
    args = parser.parse_args()

    config = _config(args)
    m = config.model
    print(
        f"Backtest of {Path(args.config).name}: {args.origins} origins, models {list(m.kinds)}, "
        f"{m.seeds} seeds, {m.burn_in_steps} + {m.prune_steps} steps, history lags "
        f"{config.history.lags}"
    )
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rtm-backtest-"))
    try:
        out = work / "backtest"
        total = _run(config, out, args, processes=args.processes, tag="main")
        manifest = json.loads((out / "backtest.json").read_text())
        print(f"\nTotal: {total:.1f} s ({manifest['engine']})")
        for origin in manifest["origins"]:
            print(
                f"  origin {origin['origin']} (train {origin['train'][0]}): "
                f"{origin['seconds']:.1f} s"
            )
        table = read_csv(out / "backtest.csv")
        summary = summary_table(table).set_index("model")
        print("\nMean PAI at 5 % over the origins (range):")
        for model, row in summary.iterrows():
            print(
                f"  {model:<18} {row['mean 0.05']:6.2f}  "
                f"({row['min 0.05']:.2f} – {row['max 0.05']:.2f})"
            )
        files = load_backtest(out)
        result = verdict(table, files.comparison, files.characters)
        print(result.sentence)
        print(f"An RTM beats the best baseline at 5 % (90 % interval above 0): {result.rtm_wins}")
        if args.compare:
            parallel = _run(config, work / "backtest-2proc", args, processes=2, tag="2 proc")
            same = (work / "backtest-2proc" / "backtest.csv").read_bytes() == (
                out / "backtest.csv"
            ).read_bytes()
            print(
                f"\nSequential {total:.1f} s, 2 processes {parallel:.1f} s: "
                f"ratio parallel / sequential {parallel / total:.2f}; "
                f"backtest.csv identical: {same}"
            )
        if args.keep:
            print(f"\nBacktest kept in {out}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
