# mmengine does not import parent registries lazily: importing
# mmpretrain.engine here registers its hooks, optimizers and constructors
# for the mmsiam scope.
import mmpretrain.engine  # noqa: F401

from .hooks import *  # noqa: F401,F403
from .model_wrappers import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403
from .strategies import *  # noqa: F401,F403
