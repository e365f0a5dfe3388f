from typing import Optional

from mmengine.hooks import Hook

from mmsiam.registry import HOOKS

from ..runner_model import runner_model


@HOOKS.register_module()
class MomentumTargetUpdateHook(Hook):
    """Update a model's momentum target after each optimizer step.

    Calls ``model.momentum_update()`` in ``after_train_iter``, i.e. after
    the optimizer step of that iteration (also when AMP skipped the step),
    before checkpoints and logs of the iteration are written. The model
    returns the online weight it used, logged as ``momentum``.
    """
    priority = 'ABOVE_NORMAL'

    def before_train(self, runner) -> None:
        model = runner_model(runner)
        if not callable(getattr(model, 'momentum_update', None)):
            raise TypeError(f'MomentumTargetUpdateHook: {type(model).__name__}'
                            ' has no momentum_update(); remove the hook '
                            'from custom_hooks or use a method with a '
                            'momentum target updated after the optimizer '
                            'step (e.g. ConMIM)')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        momentum = runner_model(runner).momentum_update()
        runner.message_hub.update_scalar('train/momentum', momentum)
