from typing import Dict

import torch
from torch import Tensor


def feature_spectrum(features: Tensor) -> Dict[str, float]:
    """How many directions a feature set uses: a dimensional-collapse check.

    With ``p`` the eigenvalues of the covariance of the centred features,
    normalised to sum 1 and sorted in decreasing order, the effective rank
    is ``exp(-sum_i p_i log p_i)`` (Roy & Vetterli, 2007): D for isotropic
    features in D dimensions, 1 when all variance lies on one line. Features
    without any variance give 0 and a first component of 1.

    Args:
        features (Tensor): ``(N, D)``.

    Returns:
        dict: ``effective_rank`` (in [0, D]) and ``first_component`` (``p_1``,
        the share of the variance along the first principal axis).
    """
    centred = features.double() - features.double().mean(dim=0)
    eigenvalues = torch.linalg.eigvalsh(centred.T @ centred).clamp(min=0)
    total = eigenvalues.sum()
    if total <= 0:
        return dict(effective_rank=0., first_component=1.)
    share = eigenvalues.flip(0) / total
    entropy = -(share * share.clamp(min=1e-300).log()).sum()
    return dict(
        effective_rank=float(entropy.exp()),
        first_component=float(share[0]))
