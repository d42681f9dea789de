"""``python tests/browser/streamlit_server.py run app.py ...``: ``streamlit`` with Python's fault
handler armed, for the browser tests' servers.

A crash writes every thread's stack to the server's log, and so does a ``SIGUSR1`` (sent by
the failure hook in ``conftest.py``), from C, so it works even when a thread that holds the GIL
is stuck: a server that stopped answering shows where each of its threads is.
"""

import faulthandler
import runpy
import signal
import sys

faulthandler.enable(all_threads=True)
faulthandler.register(signal.SIGUSR1, all_threads=True)
sys.argv[0] = "streamlit"
runpy.run_module("streamlit", run_name="__main__", alter_sys=True)
