"""The Runs page's "Did the intervention work?": two runs of the same study (before and
after) compared factor by factor (IRR ratio with its interval and p) and model by model (the
change in out-of-sample PAI with a bootstrap interval). The numbers and words are
:mod:`rtm_core.results.run_change`'s; this module only shows them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rtm_app import cache
from rtm_app.charts import model_name
from rtm_core.record.manifest import READOUT_TEXT
from rtm_core.results.run_change import irr_changes

__all__ = ["intervention_section", "irr_change_table", "pai_change_table"]

NUMBER = st.column_config.NumberColumn(format="%.2f")
CAPTION = (
    "Run A before, run B after (e.g. the same study before and after an intervention). Per "
    "factor in both runs' models: how many times its IRR changed (B / A) with a 90 % interval "
    "and the p-value of no change, from the two fits' standard errors; **higher in B** or "
    "**lower in B** only when the interval excludes 1, else **level**. Per model: the change "
    "in out-of-sample PAI with a 90 % bootstrap interval, each run's own test crimes "
    "resampled. The test periods differ, so a change may come from the city as much as from "
    "the intervention."
)


def irr_change_table(coef_a: pd.DataFrame, coef_b: pd.DataFrame) -> pd.DataFrame:
    """The IRR ratios of two runs with readable headings (empty when none is shared)."""
    table = irr_changes(coef_a, coef_b)
    return pd.DataFrame(
        {
            "model": table["model"].map(model_name),
            "variable": table["variable"],
            "set": table["set"].replace("", "(fixed)"),
            "IRR A": table["irr_a"],
            "IRR B": table["irr_b"],
            "ratio B / A": table["ratio"],
            "90 % low": table["low"],
            "90 % high": table["high"],
            "p-value": table["p_value"],
            "change": table["change"],
        }
    )


def pai_change_table(table: pd.DataFrame) -> pd.DataFrame:
    """The PAI changes of two runs with readable headings."""
    return pd.DataFrame(
        {
            "model": table["model"].map(model_name),
            "area": table["area"].map(READOUT_TEXT),
            "PAI A": table["pai_a"],
            "PAI B": table["pai_b"],
            "difference": table["difference"],
            "90 % low": table["low"],
            "90 % high": table["high"],
            "B against A": table["verdict"],
        }
    )


def intervention_section(run_a, run_b) -> None:
    """ "Did the intervention work?" for runs A and B (loaded :class:`RunFiles`)."""
    st.markdown("**Did the intervention work?**")
    st.caption(CAPTION)
    ratios = irr_change_table(run_a.coefficients, run_b.coefficients)
    if ratios.empty:
        st.info("The two runs' models share no factor.")
    else:
        numbers = {c: NUMBER for c in ("IRR A", "IRR B", "ratio B / A", "90 % low", "90 % high")}
        st.dataframe(
            ratios,
            hide_index=True,
            width="stretch",
            column_config=numbers | {"p-value": st.column_config.NumberColumn(format="%.3f")},
            key="irr_change",
        )
    change = cache.pai_change(run_a, run_b)
    if change.note:
        st.info(change.note)
        return
    for sentence in change.sentences:
        st.markdown(sentence)
    st.dataframe(
        pai_change_table(change.table),
        hide_index=True,
        width="stretch",
        column_config={
            c: NUMBER for c in ("PAI A", "PAI B", "difference", "90 % low", "90 % high")
        },
        key="pai_change",
    )
