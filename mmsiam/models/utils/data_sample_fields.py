from typing import List

import torch
from mmpretrain.structures import DataSample
from torch import Tensor


def stack_field(data_samples: List[DataSample], key: str,
                device: torch.device) -> Tensor:
    """Stack a per-image DataSample field into one batch tensor
    ``(B, *field_shape)`` on ``device``; a missing field is a KeyError that
    says how to pack it."""
    missing = [i for i, ds in enumerate(data_samples) if key not in ds]
    if missing:
        raise KeyError(f'data samples {missing[:5]} have no "{key}"; pack it '
                       f"with PackInputs(algorithm_keys=['{key}'])")
    return torch.stack([torch.as_tensor(ds.get(key))
                        for ds in data_samples]).to(device)
