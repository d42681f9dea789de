"""A compact, hashable summary of `rtm features --demo` output (the Chicago regression check)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd


def features_summary(frame: pd.DataFrame) -> dict:
    """Column names, row count, sums of every dummy and of y_train/y_test, and a hash of them.

    Sums are rounded (continuous measures to 3 decimals) so float noise does not count.
    """
    columns = [str(c) for c in frame.columns if c != "geometry"]
    sums = {}
    for col in columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
            sums[col] = int(values.sum())
        elif pd.api.types.is_numeric_dtype(values):
            sums[col] = round(float(np.nansum(values.to_numpy(dtype=float))), 3)
    body = {"n_rows": len(frame), "columns": columns, "sums": sums}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {**body, "sha256": digest}
