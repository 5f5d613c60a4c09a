"""What every bench script measures with: its own peak memory, a timed piece of work, the
machine's load, and a line said at once."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def say(text: str) -> None:
    print(text, flush=True)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def peak_mb() -> float:
    """This process's peak RSS. ``getrusage``'s ru_maxrss would do, but on Linux it carries
    the parent's high-water mark across fork and exec (a child of an 800 MB parent reports
    800 MB before it has done anything); VmHWM is the peak of this process's own memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """``work()``'s result, with its seconds, and the peak RSS before and after it."""
    start_mb = peak_mb()
    started = time.perf_counter()
    found = work()
    seconds = time.perf_counter() - started
    return found, {"seconds": seconds, "peak_mb": peak_mb(), "start_mb": start_mb}
