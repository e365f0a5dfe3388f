from collections import deque
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook

from mmsiam.registry import HOOKS


@HOOKS.register_module()
class ThroughputHook(Hook):
    """Log the training throughput as ``imgs_per_sec``.

    Source images (each with all its views) per second over all processes,
    averaged over the last ``window_size`` iterations: their images (batch
    size x world size) divided by their wall time, data loading included,
    as ``IterTimerHook`` measured it. Runs between ``IterTimerHook`` and
    ``LoggerHook``, so each logged line carries the value of its iteration
    next to mmengine's ``time`` and ``eta``.

    Args:
        window_size (int): Iterations averaged. Defaults to 10.
    """
    priority = 55  # after IterTimerHook (50), before LoggerHook (60)

    def __init__(self, window_size: int = 10):
        if window_size < 1:
            raise ValueError('ThroughputHook: window_size must be >= 1, got '
                             f'{window_size}')
        self.images = deque(maxlen=window_size)
        self.seconds = deque(maxlen=window_size)

    def before_train(self, runner) -> None:
        self.images.clear()
        self.seconds.clear()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        hub = runner.message_hub
        if data_batch is None or 'train/time' not in hub.log_scalars:
            return
        self.images.append(len(data_batch['data_samples']) * get_world_size())
        self.seconds.append(hub.get_scalar('train/time').current())
        hub.update_scalar('train/imgs_per_sec',
                          sum(self.images) / max(sum(self.seconds), 1e-9))
