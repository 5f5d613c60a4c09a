"""Columns compared side by side, one per core. Pure.

A drift report's time goes into numpy's sorts, which release the GIL, so threads use every
core without copying data between processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Capped: each column at work holds sorted copies of its values.
THREADS = min(4, os.cpu_count() or 1)


def in_parallel(work: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Each piece of work run on THREADS threads; the results in the order given."""
    if THREADS == 1 or len(work) < 2:
        return {name: run() for name, run in work.items()}
    with ThreadPoolExecutor(THREADS, thread_name_prefix="drift") as pool:
        futures = {name: pool.submit(run) for name, run in work.items()}
        return {name: future.result() for name, future in futures.items()}
