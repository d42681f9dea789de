"""The audit log as the admins' table (pure: no streamlit)."""

from __future__ import annotations

from dataclasses import asdict, fields

import pandas as pd

from rtm_core.record.audit import AuditEvent

__all__ = ["audit_frame"]


def audit_frame(events: list[AuditEvent]) -> pd.DataFrame:
    """One row per event, newest first as given: time, user, role, action, run, detail.

    Parameters
    ----------
    events : list of AuditEvent

    Returns
    -------
    DataFrame
    """
    columns = [f.name for f in fields(AuditEvent)]
    return pd.DataFrame([asdict(e) for e in events], columns=columns)
