"""keep_freed_memory: after it, a big tensor freed and made again reuses its pages instead of faulting in fresh ones."""

import subprocess
import sys

import pytest

FAULTS = """
import resource, sys, torch
from hwcli.training.memory import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else None
for _ in range(5):  # 64 MB tensors, above glibc's mmap threshold; the heap settles meanwhile
    torch.ones(16 * 2**20).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    torch.ones(16 * 2**20).sum()
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
    took, kept = faults("keep")
    _, fresh = faults("fresh")
    pages = 10 * 64 * 2**20 // 4096  # what ten fresh 64 MB tensors fault in at 4 KB a page
    assert took == "True"
    assert fresh > pages // 2  # without it every tensor is a fresh mmap
    assert kept < pages // 4  # measured: 0-1 tensors' worth (16,384 faults each), against 10 without
