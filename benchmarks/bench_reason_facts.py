"""Facts for the reasons of the explained households only, against facts from the whole tables.

Scoring explains the flagged ~10%: their facts come from their own rows (``partition_tables``)
plus the village figures of the whole tables (``village_facts``, once per run). Prints both
timings and the ratio, and checks the two give the same facts.

    .venv/bin/python benchmarks/bench_reason_facts.py DATA_DIR [AS_OF]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.data.schema import read_tables
from earlywarn.explain.household_facts import household_facts
from earlywarn.explain.village_facts import village_facts
from earlywarn.scoring.score import partition_tables

CHUNK = 50_000


def main(data_dir: Path, as_of: pd.Timestamp) -> None:
    tables = read_tables(data_dir)
    ids = pd.Index(tables.households[HOUSEHOLD_ID].iloc[::10], name=HOUSEHOLD_ID)
    print(f"{len(tables.households):,} households, explaining {len(ids):,} as of {as_of.date()}")

    started = time.perf_counter()
    villages = village_facts(tables, as_of)
    chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    parts = partition_tables(tables, chunks)
    fast = pd.concat(
        [
            household_facts(own_rows, as_of, chunk, villages=villages)
            for (own_rows, _), chunk in zip(parts, chunks, strict=True)
        ]
    )
    own = time.perf_counter() - started
    print(f"own rows + village figures: {own:.1f} s")

    started = time.perf_counter()
    whole = household_facts(tables, as_of, ids)
    plain = time.perf_counter() - started
    print(f"from the whole tables:      {plain:.1f} s")
    pd.testing.assert_frame_equal(fast, whole)
    print(f"same facts; ratio (whole / own rows) {plain / own:.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), pd.Timestamp(sys.argv[2] if len(sys.argv) > 2 else "2025-03-01"))
