"""The study, stage 1: what the data says before any risk factor is built.

Owns the units of analysis (:mod:`~rtm_core.study.units`), the crimes of each period
(:mod:`~rtm_core.study.crimes`) and their history with its lag windows
(:mod:`~rtm_core.study.crime_history`), the generator layers
(:mod:`~rtm_core.study.generators`), the place names of the units
(:mod:`~rtm_core.study.places`), and the loader that reads them all for a config
(:mod:`~rtm_core.study.load`), with geometry repair, reach checks, every-problem checks and the
Data page's column guesses. Imports :mod:`rtm_core.config`, :mod:`rtm_core.io` and
:mod:`rtm_core.periods`; never :mod:`rtm_core.factors` or later stages.
"""
