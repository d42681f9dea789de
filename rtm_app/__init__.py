"""The Streamlit side of the RTM dashboard: session state, caching wrappers, maps, charts.

Pages import from here; everything that computes lives in :mod:`rtm_core`.
"""
