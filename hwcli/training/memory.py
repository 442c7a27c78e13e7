"""Keep freed memory in the process for reuse while training (glibc's malloc).

glibc serves every allocation above its mmap threshold (at most 32 MB) with a
fresh mmap and hands it back to the kernel with munmap when it is freed. A
paper-size training iteration allocates and frees dozens of such tensors (one
time-major activation buffer of a 32 x 700 batch is 143 MB), so the kernel
zero-fills every one of their pages again on every iteration: page faults took
a third of an iteration's time (docs/performance.md). Serving them from the
heap and never trimming it reuses the pages instead. That holds only while the
freed blocks fit what comes next: batches of ever different shapes fragmented
the heap (8 GB after 1,300 steps), so training rounds its batch shapes to a
grid (training/batches.py) and the heap settles within the first epoch.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's malloc.h
NEVER_TRIM = 2**31 - 1  # the largest value mallopt takes (an int): trim only above 2 GB free


def keep_freed_memory() -> bool:
    """Make malloc reuse freed memory instead of returning it; True where it took effect (glibc).

    Process-wide and for the rest of the process: for training, not for `hw write`."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without mallopt
        return False
    # mallopt returns 1 on success; musl's is a stub returning 0.
    return mallopt(M_MMAP_MAX, 0) == 1 and mallopt(M_TRIM_THRESHOLD, NEVER_TRIM) == 1
