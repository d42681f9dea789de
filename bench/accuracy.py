"""Out-of-sample accuracy of the RTM models beside the hot-spot baselines (issue 8).

Runs two studies through the same pipeline as ``rtm run`` and prints one table each: PAI of
the test period at 1 / 5 / 10 % of the area for every model and baseline.

- the embedded demo (Chicago burglary 2017 -> 2018, no crime history), for contrast;
- ``bench/chicago_assaults.toml`` (Chicago aggravated assaults 2017 -> 2018, ``[history]
  lags = 2``, six generator layers, 150 m grid).

Usage::

    .venv/bin/python bench/accuracy.py                      # the configs' own model settings
    .venv/bin/python bench/accuracy.py --seeds 5 --steps 3000   # quicker DL (CPU)
    .venv/bin/python bench/accuracy.py --only assaults --keep runs/accuracy

``--steps N`` sets both ``burn_in_steps`` and ``prune_steps``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import with_model_overrides  # noqa: E402
from rtm_core.config import demo_config, load_config  # noqa: E402
from rtm_core.runs.pipeline import run_pipeline  # noqa: E402

ORDER = ("dl", "classical", "prior_counts", "prior_counts_lags", "kde", "forest", "history_only")
SHARES = ("0.01", "0.05", "0.10")


def _config(name: str, args):
    config = demo_config() if name == "demo" else load_config(ROOT / "bench/chicago_assaults.toml")
    return with_model_overrides(config, args.seeds, args.steps)


def table(metrics: dict) -> str:
    """Markdown table of test-period PAI at 1 / 5 / 10 % from a ``metrics.json`` dict."""
    names = [n for n in ORDER if n in metrics] + [n for n in metrics if n not in ORDER]
    lines = ["| model | PAI 1 % | PAI 5 % | PAI 10 % |", "|---|---|---|---|"]
    for name in names:
        pai = metrics[name]["test"]["pai"]
        lines.append(f"| {name} | " + " | ".join(f"{pai[s]:.2f}" for s in SHARES) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=0, help="DL seeds (default: config's)")
    parser.add_argument("--steps", type=int, default=0, help="Adam steps per DL phase")
    parser.add_argument("--only", choices=("demo", "assaults"), help="run one study")
    parser.add_argument("--keep", help="folder to keep the run folders in")
    args = parser.parse_args(argv)
    keep = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rtm-accuracy-"))
    keep.mkdir(parents=True, exist_ok=True)
    for name in ("demo", "assaults"):
        if args.only and args.only != name:
            continue
        config = _config(name, args)
        start = time.perf_counter()
        out = run_pipeline(config, keep / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
        seconds = time.perf_counter() - start
        metrics = json.loads((out / "metrics.json").read_text())
        model = config.model
        print(
            f"\n## {name}: out-of-sample PAI (test period); {model.seeds} DL seeds, "
            f"{model.burn_in_steps}+{model.prune_steps} Adam steps, {seconds:.0f} s; {out}"
        )
        print(table(metrics))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
