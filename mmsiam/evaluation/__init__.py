# mmengine does not import parent registries lazily: importing
# mmpretrain.evaluation here registers its metrics for the mmsiam scope.
import mmpretrain.evaluation  # noqa: F401

from .metrics import *  # noqa: F401,F403
