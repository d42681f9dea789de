"""Benchmark: how the whole run grows with the number of units, and a 10M-unit Dask build.

Run as ``.venv/bin/python bench/scale.py`` (about 15 minutes on 2 cores). It prints

1. the full pipeline (``run_pipeline``: the Chicago demo, 6 layers, 1 deep-learning seed of
   ``--steps`` burn-in + ``--steps`` prune Adam steps, plus the classical RTM, baselines,
   evaluation and the run folder) on grids of 150 m, 48 m and 24 m cells (about 25k, 250k and
   1M units), each size in a fresh subprocess so its peak memory is its own: seconds and peak
   resident memory (the run's process plus the lasso's helper processes) per phase and in
   all, then the growth exponent (log-log slope of time and of peak memory against units)
   and the checks of issue 11 (1M units: <= 2.5 GB peak and <= 7x the time of the 25k run);
2. a 10M-unit risk-factor build (grid of 7.6 m cells over the demo boundary, the demo's six
   layers) on a 2-worker local Dask cluster with ``memory_limit="4GB"`` per worker: seconds,
   each worker's peak memory and the client's.

``--sizes 150,48`` picks the cell sizes, ``--keep DIR`` keeps the run folders (``DIR/<cell>m``;
the 24 m one is a 1M-unit run for the app), ``--no-dask`` skips part 2, ``--only-dask`` skips
part 1. ``--child CELL OUT`` is the subprocess mode (prints one JSON line).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_PEAK_GB = 2.5
TARGET_TIME_RATIO = 7.0
DASK_CELL = 7.6
DASK_WORKER_LIMIT = "4GB"


def _rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process now (Linux ``/proc``); 0 when it has gone."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def _cmdline(pid: int | str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def _child_pids(pid: int | str = "self") -> list[str]:
    """Every process started by ``pid``, and theirs (the lasso's helper processes).

    A child still running this process's command line is a fork that has not exec'd yet
    (loky forks, then execs a fresh interpreter): its pages are this process's, so it is
    left out rather than counted twice.
    """
    out = []
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        kids = [k for t in tasks for k in (t / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return out
    own = _cmdline(pid)
    for kid in kids:
        if _cmdline(kid) != own:
            out += [kid, *_child_pids(kid)]
    return out


class PhaseMemory:
    """Peak resident memory per pipeline phase, sampled every 20 ms by a thread.

    Counts this process and every process it started (the lasso's helpers): the sum of their
    resident sets, which counts library pages they share twice, so it errs high (a fork not
    yet exec'd is left out, see :func:`_child_pids`).
    """

    def __init__(self):
        self.phase = "data"
        self.peak: dict[str, int] = {}
        self.peak_self = 0
        self.started: dict[str, float] = {"data": time.perf_counter()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            own = _rss_bytes()
            rss = own + sum(_rss_bytes(pid) for pid in _child_pids())
            self.peak_self = max(self.peak_self, own)
            if rss > self.peak.get(self.phase, 0):
                self.peak[self.phase] = rss

    def progress(self, p) -> None:
        """Pipeline progress callback: switch the phase being sampled."""
        phase = p.phase
        if phase == "evaluate" and "writing" in p.message:
            phase = "write"
        if phase != self.phase:
            self.phase = phase
            self.started.setdefault(phase, time.perf_counter())

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {k: v / 1e9 for k, v in self.peak.items()}


def child(cell: float, out: str, steps: int) -> None:
    """Run the whole demo pipeline at one cell size; print one JSON line of figures."""
    from rtm_core.config import LARGE_GRID_CELLS, demo_config
    from rtm_core.runs.pipeline import run_pipeline

    config = demo_config(seeds=1, burn_in_steps=steps, prune_steps=steps, device="cpu")
    units = dataclasses.replace(config.units, cell_size=cell, max_cells=LARGE_GRID_CELLS)
    config = config.replace(units=units)  # what `rtm run --allow-large-grid` does
    memory = PhaseMemory()
    start = time.perf_counter()
    run_pipeline(config, out, progress=memory.progress)
    seconds = time.perf_counter() - start
    peaks = memory.stop()
    manifest = json.loads((Path(out) / "manifest.json").read_text())
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    peak = max([own, *peaks.values()])  # with the helper processes
    print(
        json.dumps(
            {
                "cell": cell,
                "units": manifest["n_units"],
                "seconds": seconds,
                "peak_gb": peak,
                "peak_self_gb": own,
                "phase_peak_gb": peaks,
                "timings": manifest["timings"],
            }
        )
    )


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def full_runs(sizes: list[float], keep: str | None, steps: int) -> None:
    rows = []
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="rtm-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    for cell in sizes:
        out = root / f"{cell:g}m"
        if out.exists():
            import shutil

            shutil.rmtree(out)
        cmd = [sys.executable, __file__, "--child", str(cell), str(out), "--steps", str(steps)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"the {cell} m run failed")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        t = row["timings"]
        fit = t.get("fit", {})
        print(
            f"{cell:>6g} m  {row['units']:>10,} units  {row['seconds']:7.1f} s  "
            f"peak {row['peak_gb']:.2f} GB (this process {row['peak_self_gb']:.2f})  | "
            f"data {t['data']:.1f} s, features "
            f"{t['features']:.1f} s, dl {fit.get('dl', 0):.1f} s, classical "
            f"{fit.get('classical', 0):.1f} s, baselines {t['baselines']:.1f} s, "
            f"evaluate {t['evaluate']:.1f} s, write {row['seconds'] - t['total']:.1f} s",
            flush=True,
        )
        phases = ", ".join(f"{k} {v:.2f}" for k, v in row["phase_peak_gb"].items())
        print(f"         peak GB per phase: {phases}", flush=True)
    if len(rows) >= 2:
        units = [r["units"] for r in rows]
        print(
            f"growth exponent (log-log slope vs units): time "
            f"{_slope(units, [r['seconds'] for r in rows]):.2f}, peak memory "
            f"{_slope(units, [r['peak_gb'] for r in rows]):.2f}"
        )
        ratio = rows[-1]["seconds"] / rows[0]["seconds"]
        print(
            f"largest vs smallest: {ratio:.1f}x the time (target <= {TARGET_TIME_RATIO:g}x), "
            f"{rows[-1]['peak_gb']:.2f} GB peak (target <= {TARGET_PEAK_GB} GB)"
        )


def dask_features(cell: float, workers: int) -> None:
    """A risk-factor build of a fine grid over the demo boundary on a local Dask cluster."""
    import shapely

    from rtm_core.cluster import dask_client
    from rtm_core.config import demo_config
    from rtm_core.factors.distributed import build_risk_factors_dask
    from rtm_core.study.load import load_study

    config = demo_config()
    study = load_study(config)  # the 150 m study: its generator layers and boundary
    boundary = study.boundary.geometry.union_all()
    x0, y0, x1, y1 = boundary.bounds
    xs = np.arange(x0 + cell / 2, x1, cell)
    ys = np.arange(y0 + cell / 2, y1, cell)
    parts = []
    shapely.prepare(boundary)
    for y in ys:  # row by row: never the whole bounding box of points at once
        keep = shapely.contains_xy(boundary, xs, np.full(len(xs), y))
        parts.append(np.column_stack([xs[keep], np.full(int(keep.sum()), y)]))
    unit_xy = np.concatenate(parts)
    del parts
    print(f"{len(unit_xy):,} units ({cell} m cells over the demo boundary)", flush=True)
    with dask_client(workers=workers, memory_limit=DASK_WORKER_LIMIT) as client:
        start = time.perf_counter()
        factors = build_risk_factors_dask(
            unit_xy, study.generators, client, kernel=config.features.kernel
        )
        seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    print(
        f"10M-unit feature build on {workers} Dask workers ({DASK_WORKER_LIMIT} each): "
        f"{len(factors.table):,} units x {len(factors.dummy_names)} dummies in {seconds:.1f} s"
    )
    for address, peak in sorted(peaks.items()):
        print(f"  worker {address}: peak {peak / 1e9:.2f} GB")
    print(f"  client (holds the gathered table): peak {client_peak:.2f} GB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CELL", "OUT"))
    parser.add_argument("--sizes", default="150,48,24", help="cell sizes in metres")
    parser.add_argument("--steps", type=int, default=250, help="DL burn-in = prune steps")
    parser.add_argument("--keep", help="keep the run folders here")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--only-dask", action="store_true")
    parser.add_argument("--dask-cell", type=float, default=DASK_CELL)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.child:
        child(float(args.child[0]), args.child[1], args.steps)
        return 0
    if not args.only_dask:
        full_runs([float(s) for s in args.sizes.split(",")], args.keep, args.steps)
    if not args.no_dask:
        dask_features(args.dask_cell, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
