from mmengine.optim.scheduler import CosineAnnealingLR

from mmsiam.registry import PARAM_SCHEDULERS


def optimizer_base_lr(optimizer) -> float:
    """The base lr of an optimizer or optimizer wrapper: its default, which
    mmengine's constructors multiply by each group's ``lr_mult`` (layer
    decay, ``custom_keys``) to give the group's lr."""
    optimizer = getattr(optimizer, 'optimizer', optimizer)
    return optimizer.defaults['lr']


@PARAM_SCHEDULERS.register_module()
class LayerwiseCosineAnnealingLR(CosineAnnealingLR):
    """Cosine annealing whose floor is ``eta_min`` times each parameter
    group's lr multiplier, as MAE / BEiT fine-tuning (SiameseIM, ConMIM)
    schedules the groups of layer-wise lr decay: the lr of a group of
    scale ``s`` is ``s * (eta_min + (peak - eta_min) * (1 + cos(pi T_cur /
    T_max)) / 2)``.

    mmengine's ``CosineAnnealingLR(eta_min=...)`` gives every group the
    same absolute floor: with layer decay 0.65 the lowest layers (scale
    0.65^13 = 3.7e-3) then end far above their published lr (the cls
    token's last lr 1e-6 instead of 3.7e-9), and ``eta_min_ratio`` scales
    the floor with the peak, which ``--auto-scale-lr`` changes while the
    published ``min_lr`` is absolute.

    The multiplier of a group is its initial lr over the optimizer's base
    lr (:func:`optimizer_base_lr`), so the floor stays ``eta_min * s``
    under ``--auto-scale-lr``.

    Args:
        optimizer (OptimWrapper or Optimizer): Wrapped optimizer.
        eta_min (float): The floor of a group of multiplier 1 (the
            published ``min_lr``). Defaults to 0.
        **kwargs: ``T_max``, ``begin``, ``end``, ``by_epoch`` etc. of
            mmengine's ``CosineAnnealingLR``.
    """

    def __init__(self, optimizer, eta_min: float = 0., **kwargs):
        if kwargs.get('eta_min_ratio') is not None:
            raise ValueError('LayerwiseCosineAnnealingLR takes eta_min, the '
                             'floor of a group of lr multiplier 1, not '
                             'eta_min_ratio')
        kwargs.pop('eta_min_ratio', None)
        self.eta_min_per_unit_lr = eta_min
        super().__init__(optimizer, eta_min_ratio=eta_min /
                         optimizer_base_lr(optimizer), **kwargs)
