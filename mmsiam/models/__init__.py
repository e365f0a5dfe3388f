# mmengine does not import parent registries lazily: importing mmpretrain.models
# here registers its models for the mmsiam scope.
import mmpretrain.models  # noqa: F401
