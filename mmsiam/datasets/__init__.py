# mmengine does not import parent registries lazily: importing mmpretrain's
# datasets here registers its datasets and transforms for the mmsiam scope.
import mmpretrain.datasets  # noqa: F401

from .mnist5k import MNIST5k

__all__ = ['MNIST5k']
