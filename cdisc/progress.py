"""Progress lines of a run on stderr, with the step under way named in an error message."""
from __future__ import annotations

import sys
import time


class Progress:
    """Progress lines on stderr; quiet when not on a terminal unless asked."""

    def __init__(self, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.current = ""  # the step under way, named in an error message

    def step(self, message: str) -> None:
        self.current = message
        if self.enabled:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:6.1f}s] {message}", file=self.stream, flush=True)
