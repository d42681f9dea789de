"""rtm_app.state owns the session: its accessors under a real script run, and no page or other
rtm_app module touching ``st.session_state`` itself (pages stay layouts under ~120 lines)."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE_LINES = 120


def _script() -> None:
    """Exercise the accessors; each run records what it saw in st.write."""
    import streamlit as st

    from rtm_app import state

    seen = {
        "form": state.upload_form_id(),
        "flash": state.take_flash(),
        "asked": state.delete_asked(),
        "built": state.factors_built("key-1"),
        "filled": state.train_form_filled(),
        "seeds": state.widget_value(state.TRAIN_SEEDS),
        "preset": state.widget_value(state.TRAIN_PRESET),
        "pick": state.widget_value(state.BACKTEST_PICK),
    }
    st.write(repr(seen))
    if not seen["filled"]:  # first run: change everything once
        state.next_upload_form()
        state.flash("hello")
        state.ask_delete("runs/a")
        state.set_factors_built("key-1")
        state.fill_train_form(seeds=3, burn_in=10, prune=20, preset="quick")
        state.open_backtest_later("bt/one")
        state.pick_backtest_to_open(["bt/one", "bt/two"])
        state.set_widget_values(x_0="X")
        state.forget_stale("x_0", ["lon", "lat"])


def _seen(at: AppTest) -> dict:
    return eval(at.markdown[0].value)  # the repr of a dict of plain values


def test_state_accessors_remember_between_runs():
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert not at.exception
    first = _seen(at)
    assert first == {
        "form": 0,
        "flash": None,
        "asked": None,
        "built": False,
        "filled": False,
        "seeds": None,
        "preset": None,
        "pick": None,
    }
    at.run()
    second = _seen(at)
    assert second == {
        "form": 1,
        "flash": "hello",
        "asked": "runs/a",
        "built": True,
        "filled": True,
        "seeds": 3,
        "preset": "quick",
        "pick": "bt/one",
    }
    assert "x_0" not in at.session_state  # a stale widget value is forgotten
    at.run()
    assert _seen(at)["flash"] is None  # a flash shows once


def test_fill_train_form_keeps_the_preset_when_none_is_given():
    def script() -> None:
        import streamlit as st

        from rtm_app import state

        if not state.train_form_filled():
            state.fill_train_form(seeds=2, burn_in=300, prune=300, preset="quick")
        else:
            state.fill_train_form(seeds=20, burn_in=10_000, prune=10_000)
        st.write(repr((state.widget_value(state.TRAIN_PRESET), state.widget_value("train_seeds"))))

    at = AppTest.from_function(script, default_timeout=60).run().run()
    assert not at.exception
    assert eval(at.markdown[0].value) == ("quick", 20)


def test_only_state_touches_the_session_and_pages_are_short():
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("views/*.py"), ROOT / "app.py", *ROOT.glob("rtm_app/*.py")]
        if path.name != "state.py" and re.search(r"\bsession_state\b", path.read_text())
    ]
    assert offenders == [], f"session keys outside rtm_app/state.py: {offenders}"
    long = {
        p.name: n
        for p in ROOT.glob("views/*.py")
        if (n := len(p.read_text().splitlines())) > PAGE_LINES
    }
    assert long == {}, f"pages over {PAGE_LINES} lines: {long}"
