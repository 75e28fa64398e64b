"""How the service stops: on SIGTERM or SIGINT, in order and within its bounds (hotline/app.py
``Hotline._stop``); uvicorn serves HTTP (hotline/front.py) but does not own the signals."""

from __future__ import annotations

import asyncio
import contextlib
import signal

# A stop (SIGTERM, SIGINT) takes under 10 s: calls in the IVR get this long to reach a queue,
IVR_STOP_SECONDS = 5.0
HTTP_STOP_SECONDS = 2  # open HTTP requests this long (the wallboard's streams end at once),
RECORDS_STOP_SECONDS = 2.0  # and the record writer this long (what is left stays journaled).


def stop_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (where the loop can take signals: the main thread)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stopping.set)
    return stopping
