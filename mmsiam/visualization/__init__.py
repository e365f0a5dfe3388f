# mmengine does not import parent registries lazily: importing
# mmpretrain.visualization here registers its visualizers for the mmsiam scope.
import mmpretrain.visualization  # noqa: F401
