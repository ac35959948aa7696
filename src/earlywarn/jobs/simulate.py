"""The simulate and calibration jobs: write simulated tables; check them against public figures."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

import pandas as pd

from earlywarn.config import SimulateConfig
from earlywarn.data.directory import write_tables
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import check_writable
from earlywarn.errors import EarlywarnError
from earlywarn.simulator.households import Simulation, simulate_tables
from earlywarn.simulator.realism import CalibrationFigures, calibration_figures

log = logging.getLogger(__name__)


TRUTH_TABLE = "truth"


def run_simulate(
    out_dir: Path,
    *,
    n_households: int,
    seed: int,
    n_oracle_draws: int,
    workers: int = 1,
    settings: SimulateConfig | None = None,
    partition_by: Literal["county"] | None = None,
) -> Simulation:
    """Simulate households and write them (contract-shaped) with ``truth.parquet``, atomically;
    returns what was written. ``settings``: the world's settings (today's world if None);
    ``partition_by``: the tables keyed by household as datasets partitioned by county."""
    started = time.perf_counter()
    check_writable(Path(out_dir), folder=True)
    simulation = simulate_tables(
        n_households,
        seed,
        n_oracle_draws=n_oracle_draws,
        workers=workers,
        settings=settings or SimulateConfig(),
    )
    write_tables(
        simulation.tables,
        out_dir,
        extra={TRUTH_TABLE: simulation.truth},
        partition_by=partition_by,
    )
    log.info(
        "simulated %d households (seed %d) into %s in %.1f s",
        n_households,
        seed,
        out_dir,
        time.perf_counter() - started,
    )
    return simulation


def run_calibration(data_dir: Path) -> CalibrationFigures:
    """Read a simulated data directory (tables + truth.parquet) and compute its calibration
    figures."""
    data_dir = Path(data_dir)
    truth_path = data_dir / f"{TRUTH_TABLE}.parquet"
    if not truth_path.exists():
        raise EarlywarnError(
            f"{truth_path} does not exist: calibration needs a directory "
            "written by `earlywarn simulate`"
        )
    tables = read_tables(data_dir)
    truth = pd.read_parquet(truth_path)
    return calibration_figures(Simulation(tables=tables, truth=truth))
