# mmengine does not import parent registries lazily: importing mmpretrain's
# datasets here registers its datasets and transforms for the mmsiam scope.
import mmpretrain.datasets  # noqa: F401

from .class_balanced_subset import ClassBalancedSubset
from .mnist5k import MNIST5k
from .seeded_sampling import SeededDataset, SeededSampler, unwrap_seeded
from .transforms import *  # noqa: F401,F403
from .unlabeled_image_folder import UnlabeledImageFolder

__all__ = [
    'ClassBalancedSubset', 'MNIST5k', 'SeededDataset', 'SeededSampler',
    'unwrap_seeded', 'UnlabeledImageFolder'
]
