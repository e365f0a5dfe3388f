# mmengine does not import parent registries lazily: importing
# mmpretrain.models here registers its models for the mmsiam scope.
import mmpretrain.models  # noqa: F401

from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
