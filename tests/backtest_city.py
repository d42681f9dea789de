"""A small synthetic city with three years of dated crimes, for backtest tests."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from rtm_core.synth import make_city, write_city

FAST = "seeds = 2\nburn_in_steps = 200\nprune_steps = 200"


def dated_city(folder: Path, *, first_year_in_one_cell: bool = False) -> Path:
    """Write the city under ``folder``; its config (train 2021, test 2022; crimes 2020–2022).

    ``first_year_in_one_cell`` puts every 2020 crime in one place, so an origin that trains on
    2020 cannot be fitted.
    """
    config = write_city(make_city(3, size=4000.0, cell_size=200.0), folder)
    crimes = pd.read_csv(folder / "crimes.csv")
    old = crimes[crimes["OCCUR_DATE"].str.startswith("2022")].copy()
    old["OCCUR_DATE"] = "2020" + old["OCCUR_DATE"].str[4:]
    if first_year_in_one_cell:
        old[["X", "Y"]] = old[["X", "Y"]].iloc[0].to_numpy()
    pd.concat([old, crimes]).to_csv(folder / "crimes.csv", index=False)
    text = config.read_text()
    config.write_text(re.sub(r"seeds = \d+", FAST, text), encoding="utf-8")
    return config
