from mmengine.hooks import Hook

from mmsiam.registry import HOOKS


@HOOKS.register_module()
class FixedPeakLRHook(Hook):
    """Keeps the parameter groups marked ``fix_lr=True`` (from
    ``paramwise_cfg=dict(custom_keys={'predictors': dict(fix_lr=True)})``)
    at their peak lr while the schedulers anneal the others: SimSiam's
    predictor (Chen & He, CVPR 2021; MULAN's SimSiam recipe).

    The peak is the group's initial lr, the one the optimizer was built
    with, so it follows ``--auto-scale-lr`` and any total batch, as the
    official ``base_lr * batch / 256`` does. mmpretrain's ``SimSiamHook``
    resets the groups to a number written in the config instead (0.1 for
    batch 512 stays 0.1 at batch 256, where the recipe gives 0.05).

    Args:
        by_epoch (bool): Reset before every epoch (the recipe's per-epoch
            schedule) or, if False, before every iteration (for
            iteration-based schedulers). Defaults to True.
    """

    def __init__(self, by_epoch: bool = True):
        self.by_epoch = by_epoch

    @staticmethod
    def reset(optim_wrapper) -> None:
        """Set every ``fix_lr`` group of ``optim_wrapper`` to its initial
        lr."""
        for group in optim_wrapper.param_groups:
            if group.get('fix_lr', False):
                group['lr'] = group.get('initial_lr', group['lr'])

    def before_train_epoch(self, runner) -> None:
        if self.by_epoch:
            self.reset(runner.optim_wrapper)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if not self.by_epoch:
            self.reset(runner.optim_wrapper)
