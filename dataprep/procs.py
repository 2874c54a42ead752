"""Worker processes that die with their parent, and SIGTERM handled like Ctrl-C.

A `ProcessPoolExecutor`'s workers wait on a pipe whose write end they share, so a parent
killed with SIGKILL leaves them running. Each worker here asks the kernel to send it
SIGKILL when its parent dies (Linux `PR_SET_PDEATHSIG`); elsewhere it polls its parent.

Example:
    with process_pool(2) as pool:
        list(pool.map(str.upper, ["a", "b"]))  # -> ["A", "B"]
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when the process that started it ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


_JOBS = 1


def set_jobs(workers: int) -> None:
    """The workers the library's CPU stages may use (`dataprep run --jobs`; 1 until set)."""
    global _JOBS
    _JOBS = max(1, int(workers))


def jobs() -> int:
    """The workers set by `set_jobs` (1: work in this process)."""
    return _JOBS


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may use (its affinity), at most 8.

    Example: on a 2-core machine, default_jobs() -> 2
    """
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        usable = counter() or 1
    else:
        try:
            usable = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            usable = os.cpu_count() or 1
    return max(1, min(8, usable))


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end when this process ends, however it ends."""
    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )


def sigterm_as_interrupt() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread, as Ctrl-C does, so a stopped
    run ends the same way: committed work kept, the run marked interrupted, one line."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


def large_blocks_mapped(threshold: int = 4 << 20) -> None:
    """Have glibc serve each block of `threshold` bytes or more with a mapping of its own,
    unmapped when freed (a fixed `M_MMAP_THRESHOLD`, inherited by forked workers). By
    default glibc raises that threshold up to 32 MiB after the first large block is freed,
    and the large short-lived blocks of a pass (a batch's pickled results, its JSON lines
    and Arrow buffers) then come from the heap, which they fragment: over the export's row
    pass on all of java.base the parent grew from 220 to 290 MB, 1.3x its peak on half of
    it; with the threshold fixed, 220 to 245. Fixed at 4 MiB, not glibc's 128 KiB floor:
    each block mapped on its own is zeroed page by page by the kernel when first written,
    and a batch's buffers of a few hundred kB come and go by the thousand (all of
    java.base: 21.1 s of system time at 128 KiB, 15.8 s at 4 MiB, peak 370 -> 377 MB)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt(M_MMAP_THRESHOLD, int(threshold))
        except (OSError, AttributeError):
            pass


def give_back_memory() -> None:
    """Hand the memory a finished stage freed back to the system (glibc's `malloc_trim`, and
    Arrow's pool when loaded): freed large blocks otherwise stay in this process's heap,
    and the next stage's peak (and its forked workers') sits on top of the last one's."""
    import gc

    gc.collect()
    if _FREEZE[0]:  # what survived the collection lives on: later collections skip it
        gc.freeze()
    arrow = sys.modules.get("pyarrow")
    if arrow is not None and hasattr(arrow, "default_memory_pool"):
        arrow.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


_FREEZE = [False]  # whether `give_back_memory` freezes the survivors (`fewer_collections`)


@contextmanager
def fewer_collections(freeze: bool = False) -> Iterator[None]:
    """The cyclic garbage collector run less often (its youngest generation every 50,000
    new containers, not 700; a pool forked inside inherits it), for a pass that makes
    millions of short-lived dicts and lists, which reference counting frees: every
    collection walks them and what the pass holds (the generate stage on every 4th
    java.base file: 1.1 s of 11 s CPU in 2,000 collections; 0.2 s after). `dataprep run`
    holds it over every stage: on every 4th java.base file its processes spent 5.3 s of
    56 s CPU collecting (gc.callbacks), 0.9 s after, with the same peak memory."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    # `freeze`: what is alive after each stage (`give_back_memory`: modules, the store,
    # the run's state) moves to the permanent generation, so the next stages' collections,
    # and their forked workers', do not walk it again; all of it goes back when the block
    # ends (where nothing else froze objects before it). On every 4th java.base file the
    # run's 15 full collections took 0.9 s in the main process, 0.28 s frozen
    freezing = freeze and gc.get_freeze_count() == 0 and not _FREEZE[0]
    if freezing:
        _FREEZE[0] = True
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if freezing:
            _FREEZE[0] = False
            gc.unfreeze()
