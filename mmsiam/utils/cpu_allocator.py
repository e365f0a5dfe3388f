"""Keep freed memory in the process on CPU training runs (glibc malloc).

glibc serves allocations above its mmap threshold with fresh ``mmap`` pages
and returns freed memory to the system when the heap top exceeds its trim
threshold. A training step on CPU allocates and frees the same large
tensors every iteration (activations, the fp32 gradients that autocast's
bf16 gradients are cast into, optimizer temporaries), so each step
page-faults its working set anew: on a ViT-B/16 step at batch 4 about
35,000 minor faults, 0.25-0.3 s of system time, and the gradient casts of
the backward pass run 4x slower than the same casts on warm memory
(docs/performance.md). CUDA runs are unaffected (torch's caching allocator
keeps device memory).

:func:`keep_freed_memory` raises both thresholds with ``mallopt``, so that
the heap keeps what a step frees for the next one. mmsiam's tools call it
on runs without CUDA (``tools/train.py`` logs it); importing mmsiam does
not.
"""
import ctypes
import ctypes.util

# mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MIB = 2**20


def keep_freed_memory(mmap_threshold_mib: int = 32,
                      trim_threshold_mib: int = 1024,
                      top_pad_mib: int = 64) -> bool:
    """Make glibc malloc keep freed memory for reuse.

    Args:
        mmap_threshold_mib (int): Allocations up to this size come from the
            heap, not from fresh ``mmap`` pages. 32 MiB is glibc's upper
            limit on 64-bit systems.
        trim_threshold_mib (int): Free memory at the heap top kept before
            it is returned to the system.
        top_pad_mib (int): Extra memory taken per heap extension.

    Returns:
        bool: True when glibc accepted the settings; False on a C library
        without ``mallopt`` (musl, macOS), where nothing changes.
    """
    name = ctypes.util.find_library('c')
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    settings = ((M_MMAP_THRESHOLD, mmap_threshold_mib),
                (M_TRIM_THRESHOLD, trim_threshold_mib),
                (M_TOP_PAD, top_pad_mib))
    return all(mallopt(param, mib * MIB) == 1 for param, mib in settings)
