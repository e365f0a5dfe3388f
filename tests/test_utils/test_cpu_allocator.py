"""keep_freed_memory: freed tensors are reused instead of page-faulted anew."""
import os
import subprocess
import sys

FAULTS = """
import resource, sys, torch
from mmsiam.utils import keep_freed_memory
accepted = keep_freed_memory() if sys.argv[1] == 'keep' else None


def step():
    # A training step's pattern: many tensors of a few MiB (here 12 x 8 MiB)
    # alive together, then freed together.
    tensors = [torch.empty(2 * 2**20).fill_(1) for _ in range(12)]
    del tensors


for _ in range(3):  # warm up: the first allocations fault either way
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(accepted, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


# glibc's defaults, made deterministic: naming the mmap threshold (here its
# default, 128 KiB) turns off the dynamic threshold, which otherwise keeps the
# memory of about one process in two by chance (where the heap lies decides).
# keep_freed_memory's mallopt calls override the variable.
STATIC_DEFAULTS = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(128 * 2**10))


def _faults(mode, code=FAULTS):
    out = subprocess.run([sys.executable, '-c', code, mode],
                         capture_output=True, text=True, check=True,
                         env=STATIC_DEFAULTS)
    accepted, faults = out.stdout.split()
    return accepted, int(faults)


# 5 steps of 96 MiB: 24576 pages each when the memory is fresh.
FRESH_FAULTS = 5 * 24576 // 2


def test_freed_tensors_are_reused_without_page_faults():
    assert _faults('default')[1] > FRESH_FAULTS
    for _ in range(3):  # every process keeps its memory
        accepted, kept_faults = _faults('keep')
        assert accepted == 'True'
        assert kept_faults < 1000


def test_importing_mmsiam_leaves_malloc_alone():
    code = FAULTS.replace('from mmsiam.utils import keep_freed_memory',
                          'import mmsiam; keep_freed_memory = None')
    assert _faults('default', code)[1] > FRESH_FAULTS
