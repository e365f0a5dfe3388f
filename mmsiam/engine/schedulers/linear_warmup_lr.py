from mmengine.optim.scheduler import LinearLR

from mmsiam.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class LinearWarmupLR(LinearLR):
    """Linear warm-up that reaches the peak lr at ``end``, as MAE-style codes
    ramp it (SiameseIM, MULAN): ``lr_t = peak * (s + (1 - s) * t / W)`` for
    the ``t``-th step of the ``W = end - begin`` warm-up steps, then the
    peak at step ``end``, where the next scheduler (a cosine) starts.

    mmengine's ``LinearLR`` reaches the peak one step early, at ``end - 1``
    (``t / (W - 1)``, BEiT's ``np.linspace`` warm-up, which ConMIM keeps):
    at the real ImageNet iteration counts that is 8e-5 of the peak, on short
    schedules (demos, few-label fine-tuning) 1-9 % of it over the warm-up.

    The value is computed from each group's initial lr (closed form), so
    ``start_factor=0`` (the published start) is allowed. The scheduler also
    acts at step ``end`` (setting the peak), so a chained scheduler that
    begins there, such as mmengine's ``CosineAnnealingLR``, starts from the
    peak.

    Args:
        optimizer (OptimWrapper or Optimizer): Wrapped optimizer.
        start_factor (float): Factor of the initial lr at ``begin``.
            Defaults to 0.
        begin, end (int): The warm-up steps ``[begin, end)``.
        by_epoch, last_step, verbose: As in mmengine's ``LinearLR``; use
            ``by_epoch=True, convert_to_iter_based=True`` for a warm-up given
            in epochs and stepped every iteration.
    """

    def __init__(self, optimizer, start_factor: float = 0., begin: int = 0,
                 end: int = 0, **kwargs):
        if kwargs.pop('end_factor', 1.) != 1.:
            raise ValueError('LinearWarmupLR ends at the peak lr: '
                             'end_factor must be 1')
        self.warmup_steps = end - begin
        super().__init__(optimizer, start_factor=start_factor,
                         end_factor=1., begin=begin, end=end + 1, **kwargs)

    def _get_value(self):
        progress = min(self.last_step / self.warmup_steps, 1.)
        factor = self.start_factor + (1. - self.start_factor) * progress
        return [base * factor for base in self.base_values]
