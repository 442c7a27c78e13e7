"""keep_freed_memory: after it, a big tensor freed and made again reuses its pages instead of faulting in fresh ones."""

import statistics
import subprocess
import sys

import pytest

# Minor page faults of each of 10 iterations that make and free a 64 MB tensor (above glibc's mmap
# threshold), after 5 that let the heap settle.
FAULTS = """
import resource, sys, torch
from hwcli.training.memory import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else None
for _ in range(5):
    torch.ones(16 * 2**20).sum()
faults = []
for _ in range(10):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(16 * 2**20).sum()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(took, *faults)
"""
PAGES = 64 * 2**20 // 4096  # what one fresh 64 MB tensor faults in at 4 KB a page


def faults(mode: str) -> tuple[str, list[int]]:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True).stdout.split()
    return out[0], [int(n) for n in out[1:]]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
    """Without it every iteration faults a whole tensor in; with it most fault nothing (now and
    then the heap grows once more: 0-4 of 10 iterations seen)."""
    took, kept = faults("keep")
    _, fresh = faults("fresh")
    assert took == "True"
    assert statistics.median(fresh) > PAGES // 2
    assert statistics.median(kept) < PAGES // 10
