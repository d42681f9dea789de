"""Benchmark: the deep-learning RTM against a reconstruction of the seed's training loop.

Design: a synthetic grid city like the Chicago 150 m grid (160 x 160 = 25,600 cells, 6 generator
layers x 9 bandwidths x {dis, kde} = 108 dummies). Generators are clustered points (200-3,000
per layer, like 311 calls and businesses); ``dis`` dummies come from the distance to the nearest
generator, ``kde`` dummies from the z-score of the number of generators within the bandwidth
(> 2). Crimes are Poisson with three planted effects. Rows repeat about as much as in the real
Chicago demo (~20,000 distinct rows of ~25,000; ``--demo`` runs on the demo itself), and the
cost of a burn-in step grows with the distinct rows times the seeds.

Baseline, timed in the same process: the seed-style loop (float64 torch, the full masked matrix
product ``(X * mask) @ relu(w)`` over every unit at every step, autograd, ``torch.optim.Adam``),
on burn-in steps. Targets on 2 cores: a default fit (10,000 + 10,000 steps, 1 seed) <= 10 s,
>= 20x the seed-style loop per step, 20 batched seeds <= 2x one seed.

Run: ``.venv/bin/python bench/dl_fit.py`` (``--quick``: 2,000 + 2,000 steps; ``--demo``: the
embedded Chicago demo instead of the synthetic city, when ``rtm_core`` can build it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.spatial import cKDTree

from rtm_core.models.design import Design
from rtm_core.models.dl import DeepRTM

BANDWIDTHS = (50, 100, 200, 300, 400, 500, 600, 700, 800)
PLANTED = {"layer0_dis_200": 2.0, "layer2_kde_400": 1.6, "layer4_dis_500": 1.3}


def grid_city(seed: int = 0, side: int = 160, cell: float = 150.0, n_layers: int = 6):
    """A synthetic RTM design on a ``side x side`` grid and planted Poisson crimes."""
    rng = np.random.default_rng(seed)
    rows, cols = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    centres = (np.column_stack([rows.ravel(), cols.ravel()]) + 0.5) * cell
    extent = side * cell
    dummies, names, sets = [], [], []
    for layer in range(n_layers):
        hubs = rng.uniform(0, extent, (int(rng.integers(3, 10)), 2))
        n_points = int(rng.integers(200, 3_000))
        spread = rng.uniform(500, 2500)
        points = hubs[rng.integers(0, len(hubs), n_points)] + rng.normal(0, spread, (n_points, 2))
        tree = cKDTree(points)
        distance, _ = tree.query(centres)
        for bw in BANDWIDTHS:
            dummies.append(distance <= bw)
            names.append(f"layer{layer}_dis_{bw}")
        for bw in BANDWIDTHS:
            counts = tree.query_ball_point(centres, bw, return_length=True).astype(float)
            z = (counts - counts.mean()) / max(counts.std(), 1e-12)
            dummies.append(z > 2)
            names.append(f"layer{layer}_kde_{bw}")
        sets += [f"layer{layer}"] * (2 * len(BANDWIDTHS))
    X = np.column_stack(dummies).astype(np.float32)
    eta = np.full(X.shape[0], np.log(0.4))
    for name, irr in PLANTED.items():
        eta += np.log(irr) * X[:, names.index(name)]
    y = rng.poisson(np.exp(eta)).astype(float)
    return Design(X=X, names=names, sets=sets), y


def demo_design():
    """The Chicago demo's design and training counts (needs the full rtm_core pipeline)."""
    from rtm_core.config import demo_config
    from rtm_core.factors.designs import build_features
    from rtm_core.study.load import load_study

    config = demo_config()
    study = load_study(config)
    return build_features(study, config.features).design(study.covariates), study.y_train


def seed_style_step_seconds(design: Design, y: np.ndarray, n_steps: int = 200) -> float:
    """Per-step time of the seed's loop: float64, full masked matmul, autograd, torch Adam."""
    X = torch.from_numpy(np.array(design.X, dtype=np.float64))
    target = torch.as_tensor(y, dtype=torch.float64)
    set_ids = np.asarray(design.set_index)
    n_sets = set_ids.max() + 1
    w = torch.full((X.shape[1],), 0.01, dtype=torch.float64, requires_grad=True)
    b0 = torch.tensor([np.log(y.mean())], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([w, b0], lr=1e-3)
    rng = np.random.default_rng(0)
    members = [np.flatnonzero(set_ids == g) for g in range(n_sets)]
    start = time.perf_counter()
    for _ in range(n_steps):
        mask = torch.zeros(X.shape[1], dtype=torch.float64)
        mask[[int(rng.choice(cols)) for cols in members]] = 1.0
        optimizer.zero_grad()
        eta = b0 + (X * mask) @ torch.relu(w)
        loss = (torch.exp(eta) - target * eta).mean()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / n_steps


def timed_fit(design, y, **params) -> tuple[float, DeepRTM]:
    start = time.perf_counter()
    model = DeepRTM(**params).fit(design, y)
    return time.perf_counter() - start, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 + 2,000 steps")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--demo", action="store_true", help="the embedded Chicago demo")
    args = parser.parse_args()
    steps = 2_000 if args.quick else 10_000

    design, y = demo_design() if args.demo else grid_city()
    n_rows = len(np.unique(design.X, axis=0))
    print(
        f"design: {design.n_units} units x {design.X.shape[1]} dummies, "
        f"{n_rows} distinct rows, {int(y.sum())} crimes; torch threads "
        f"{torch.get_num_threads()}"
    )
    timed_fit(design, y, burn_in_steps=50, prune_steps=50)  # warm-up

    seed_step = seed_style_step_seconds(design, y)
    burn, _ = timed_fit(design, y, burn_in_steps=2_000, prune_steps=1)
    prune, _ = timed_fit(design, y, burn_in_steps=1, prune_steps=2_000)
    one, model = timed_fit(design, y, burn_in_steps=steps, prune_steps=steps)
    many, batch = timed_fit(design, y, burn_in_steps=steps, prune_steps=steps, n_seeds=args.seeds)
    burn_step, prune_step = burn / 2_000, prune / 2_000

    rows = [
        ("seed-style loop, ms/step (burn-in)", f"{seed_step * 1e3:8.3f}"),
        ("ours, ms/step (burn-in)", f"{burn_step * 1e3:8.3f}"),
        ("ours, ms/step (prune)", f"{prune_step * 1e3:8.3f}"),
        ("speed-up per burn-in step (target >= 20x)", f"{seed_step / burn_step:8.1f}x"),
        (f"full fit {steps}+{steps}, 1 seed, s (target <= 10)", f"{one:8.2f}"),
        ("seed-style full fit (est.), s", f"{seed_step * 2 * steps:8.1f}"),
        (f"full fit, {args.seeds} batched seeds, s", f"{many:8.2f}"),
        (f"{args.seeds} seeds / 1 seed (target <= 2x)", f"{many / one:8.2f}x"),
        (f"{args.seeds} seeds one after another (est.), s", f"{one * args.seeds:8.1f}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("selected (1 seed):", {s: v for s, v in model.selected_.items() if v})
    if not args.demo:
        print("planted:", PLANTED)
    shares = {v: s for v, s in batch.selection_share_.items() if s > 0}
    print(f"selection share over {args.seeds} seeds:", shares)


if __name__ == "__main__":
    main()
