import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook

from mmsiam.engine.runner_model import runner_model
from mmsiam.registry import HOOKS


@HOOKS.register_module()
class FeatureStandardizationHook(Hook):
    """Fit the per-dimension feature statistics of a
    :class:`mmsiam.models.heads.StandardizedLinearClsHead` before training.

    MULAN's linear protocol standardises each feature dimension with the
    mean and (unbiased) standard deviation of the frozen encoder's features
    of the **val** images, computed once before the first epoch (a caveat of
    the spec: the train-image variant, ``split='train'``, is the one that
    does not look at the evaluation data). The features are those the head
    sees, from the model in eval mode without gradients; sums are taken over
    every process, so that all ranks hold the statistics of the whole split
    (the official script's are per GPU). A resumed run keeps the statistics
    of its checkpoint.

    Args:
        split (str): 'val' (the paper) or 'train': the runner's dataloader
            whose images give the statistics. Defaults to 'val'.
    """
    priority = 'HIGH'
    SPLITS = ('val', 'train')

    def __init__(self, split: str = 'val'):
        if split not in self.SPLITS:
            raise ValueError(f'FeatureStandardizationHook: split="{split}" '
                             f'is not one of {self.SPLITS}')
        self.split = split

    def before_train(self, runner) -> None:
        model = runner_model(runner)
        head = model.head
        if not hasattr(head, 'fit_standardization'):
            raise TypeError(
                'FeatureStandardizationHook needs model.head of type '
                f"'mmsiam.StandardizedLinearClsHead', not "
                f'{type(head).__name__}')
        if bool(head.fitted):
            runner.logger.info('Feature standardisation: statistics from the '
                               'checkpoint kept')
            return
        loader = (runner.val_dataloader
                  if self.split == 'val' else runner.train_dataloader)
        mean, std, count = self._statistics(model, loader)
        head.fit_standardization(mean, std)
        runner.logger.info(
            f'Feature standardisation: mean / std of {count} {self.split} '
            f'features, averaged over the {mean.numel()} dimensions: '
            f'{mean.mean():.4g} / {std.mean():.4g}')

    @staticmethod
    @torch.no_grad()
    def _statistics(model, loader):
        """Per-dimension mean and unbiased std ``(C, )`` of the head's raw
        feature over every batch of ``loader`` on every process."""
        dims = model.head.in_channels
        # [count, sum of x (C), sum of x^2 (C)]
        sums = model.head.feature_mean.new_zeros(1 + 2 * dims,
                                                 dtype=torch.float64)
        was_training = model.training
        model.eval()
        for batch in loader:
            data = model.data_preprocessor(batch, False)
            feature = model.head.raw_feature(
                model.extract_feat(data['inputs'])).double()
            sums[0] += len(feature)
            sums[1:1 + dims] += feature.sum(0)
            sums[1 + dims:] += (feature**2).sum(0)
        model.train(was_training)
        all_reduce(sums, op='sum')
        count = int(sums[0])
        if count < 2:
            raise ValueError('FeatureStandardizationHook: the statistics need '
                             f'at least 2 images, got {count}')
        mean = sums[1:1 + dims] / count
        var = (sums[1 + dims:] / count - mean**2).clamp_min(0)
        std = (var * count / (count - 1)).sqrt()
        return mean.float(), std.float(), count
