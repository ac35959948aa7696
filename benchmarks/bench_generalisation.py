"""Generalisation: earlywarn against a plain peer, the rule and the oracle, away from home.

Run: ``.venv/bin/python benchmarks/bench_generalisation.py [--worlds simulator,wage_panel]
[--n-seeds 2] [--seeds 123,456] [--households 3000] [--trials 6] [--catalog-peer]
[--ablation [VARIANT ...]] [--out /tmp/earlywarn-generalisation]
[--tables-from RUN.csv ...]``

For each world (``tests/generalisation/worlds.py``: the simulator, the real wage panel of
``linearmodels``; more simulator settings plug in there by name) and each seed (drawn fresh
and printed unless ``--seeds`` replays them), trains earlywarn as ``earlywarn train --trials
N`` does, the plain peer (``tests/peer.py``) on every earlier target year, and scores the
test year at 1 January, April, July and October with earlywarn, the peer's LightGBM and logistic
regression, the rule (its 0/1 flag, and its one-line ranking by last income over the line)
and the oracle where there is one. Prints and writes (``--out``.md and .csv):

- the harness table: per world and score, mean over seeds of AP and ROC-AUC at each date,
  recall at 10% and mean risk / realised rate;
- with ``--ablation``: the ablation table (variant x world: AP, ROC-AUC, AP minus the
  baseline's, mean and worst over seeds), every variant trained on the same drawn tables.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the peer and the harness live with the tests

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from earlywarn.model.model_file import RiskModel  # noqa: E402
from generalisation.ablation import VARIANTS, ablation_table  # noqa: E402
from generalisation.harness import evaluate_world  # noqa: E402
from generalisation.report import gap_closed, harness_table, level_table, markdown  # noqa: E402
from generalisation.runner import BASELINE  # noqa: E402
from generalisation.worlds import WORLDS, simulator_world  # noqa: E402


def chosen(model: RiskModel) -> str:
    """The candidate the validation years chose (the model kind for older models)."""
    return str(model.metadata.get("model_choice", {}).get("winner", model.kind))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", default=",".join(WORLDS))
    parser.add_argument("--n-seeds", type=int, default=2)
    parser.add_argument("--seeds", default=None, help="comma-separated seeds to replay")
    parser.add_argument("--households", type=int, default=3_000)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--catalog-peer", action="store_true")
    parser.add_argument("--ablation", nargs="*", default=None, help="variants (none: all)")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "earlywarn-generalisation"
    )
    parser.add_argument(
        "--tables-from", nargs="+", type=Path, help="only print the tables of saved .csv runs"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.tables_from:
        metrics = pd.concat([pd.read_csv(path) for path in args.tables_from], ignore_index=True)
        print(tables_text(metrics, ablation=metrics["score"].str.contains(":").any()))
        return

    worlds = {name: WORLDS[name] for name in args.worlds.split(",")}
    if "simulator" in worlds:
        worlds["simulator"] = simulator_world(n_households=args.households)
    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        seeds = [int(s) for s in np.random.default_rng().integers(0, 1_000_000, args.n_seeds)]
    print(f"seeds: {','.join(map(str, seeds))}  (replay with --seeds)", flush=True)
    variants = [BASELINE]
    if args.ablation is not None:
        names = args.ablation or [name for name in VARIANTS if name != BASELINE.name]
        variants += [VARIANTS[name] for name in names]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    parts = []
    for name, world in worlds.items():
        for seed in seeds:
            started = time.perf_counter()
            data = world(seed)
            result = evaluate_world(
                data, trials=args.trials, variants=variants, catalog_peer=args.catalog_peer
            )
            parts.append(result.metrics)
            pd.concat(parts).to_csv(args.out.with_suffix(".csv"), index=False)
            print(
                f"{name} seed {seed}: test year {result.test_year}, "
                f"{len(result.rows)} rows, peer fitted on {result.peer_years}, earlywarn chose "
                f"{', '.join(chosen(m.model) for m in result.earlywarn.values())}, "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
    metrics = pd.concat(parts, ignore_index=True)
    report = (
        f"seeds {','.join(map(str, seeds))}, {args.households} simulated households, "
        f"{args.trials} trials\n\n" + tables_text(metrics, ablation=args.ablation is not None)
    )
    print(report)
    args.out.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    print(f"wrote {args.out.with_suffix('.md')} and {args.out.with_suffix('.csv')}")


def tables_text(metrics: pd.DataFrame, *, ablation: bool) -> str:
    """The harness table and, for an ablation run, the ablation table, in Markdown."""
    text = ["## Harness (mean over seeds)", "", markdown(harness_table(metrics))]
    text += ["", "## Mean risk / realised rate by test month", "", markdown(level_table(metrics))]
    gaps = gap_closed(metrics)
    if not gaps.empty:
        text += ["", "## Share of the best peer's AP gap to the oracle closed", ""]
        text += [markdown(gaps), "", f"mean gap closed: {gaps['gap closed'].mean():.3f}"]
    if ablation:
        text += ["", "## Ablation (as-of dates pooled)", "", markdown(ablation_table(metrics))]
    return "\n".join(text)


if __name__ == "__main__":
    main()
