"""Stand-ins for `media.processing.process_file` that misbehave as a decoder can on a crafted file.

A small module of its own: a worker imports it to run them, and must do so well within its budget.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any


def hang(*args: Any) -> None:
    threading.Event().wait()  # stuck in a loop, forever


def crash(*args: Any) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)  # a codec reading out of bounds
