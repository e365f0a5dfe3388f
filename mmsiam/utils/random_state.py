import contextlib
import random

import numpy as np
import torch


@contextlib.contextmanager
def preserved_random_state():
    """Run a block without changing the global random generators.

    Python's ``random``, NumPy's global generator, torch's CPU generator and,
    once CUDA is initialised, every CUDA generator are restored on exit, so
    that e.g. an evaluation during training (which starts data loader
    iterators, drawing from torch's generator) leaves the training's
    augmentations, masks and dropout exactly as without it.
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = (torch.cuda.get_rng_state_all()
                   if torch.cuda.is_initialized() else None)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)


def seed_all(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch's (CPU
    and every CUDA device) with ``seed`` (``0 <= seed < 2**32``)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
