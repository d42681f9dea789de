"""The run record: what a finished (or failed) run folder holds and how it is read.

Owns the folder layout and its file names (:mod:`~rtm_core.record.folder`: staging, atomic
writes, listing, loading, deleting) and the typed manifest, metrics and loaded run
(:mod:`~rtm_core.record.manifest`). It sits below :mod:`rtm_core.results`, which reads runs,
and below :mod:`rtm_core.runs`, which writes them; it imports neither.
"""
