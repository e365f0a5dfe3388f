from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, broadcast
from mmengine.hooks import Hook
from mmengine.logging import print_log
from torch import Tensor, nn

from mmsiam.engine.runner_model import runner_model
from mmsiam.registry import HOOKS
from mmsiam.utils.random_state import preserved_random_state

PROBE_KEY = 'online_probe'
PROBE_METRIC = 'probe/top1'


class LinearProbe(nn.Module):
    """BatchNorm without affine parameters, then a linear classifier: the
    linear probe of MAE (He et al., 2022), whose normalisation makes the
    probe's learning rate independent of the feature scale.

    Args:
        in_channels (int): Feature size ``D``.
        num_classes (int): Classes ``K``.
    """

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(in_channels, affine=False, eps=1e-6)
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, D)`` features -> ``(B, K)`` logits."""
        return self.fc(self.norm(x))


@HOOKS.register_module()
class OnlineLinearProbeHook(Hook):
    """An online linear probe, as in solo-learn (da Costa et al., JMLR
    2022): a linear classifier trained during pretraining on the detached
    evaluation feature of each training batch's first view, with the
    batch's labels and its own SGD optimizer, and scored at every
    validation on the kNN monitor's query features (``probe/top1``, in the
    same log line as ``knn/top1`` and in ``vis_data/scalars.json``).

    It reads the feature as the kNN monitor does (:class:`KNNValLoop`'s
    branch, feature and precision), so it needs that validation loop; the
    loop registers this hook from ``val_cfg.online_probe``. Its forward is
    made after the optimizer step, under ``no_grad``, in eval mode and
    with the random generators restored: the pretraining (weights, losses,
    BatchNorm statistics) is bit-identical with the probe on and off. Its
    weights and optimizer are saved in checkpoints under
    ``'online_probe'`` (so a resumed run continues it) and never in the
    model's ``state_dict``, so backbone exports leave it out. Training data
    without labels (e.g. ``UnlabeledImageFolder``) turn it off with one log
    line.

    Args:
        lr (float): SGD learning rate. Defaults to 0.01 (of 0.001, 0.01,
            0.1 and 1 the best at the end of ``make demo``:
            docs/small_scale.md).
        momentum (float): SGD momentum. Defaults to 0.9.
        weight_decay (float): Defaults to 0.
    """
    priority = 'NORMAL'  # before LoggerHook writes the validation metrics

    def __init__(self,
                 lr: float = 0.01,
                 momentum: float = 0.9,
                 weight_decay: float = 0.):
        self.optimizer_cfg = dict(
            lr=lr, momentum=momentum, weight_decay=weight_decay)
        self.probe: Optional[LinearProbe] = None
        self.optimizer: Optional[torch.optim.Optimizer] = None
        self.pending_state: Optional[dict] = None
        self.enabled = True
        self.correct = self.seen = 0

    # ----- training -----
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self.enabled:
            return
        samples = data_batch['data_samples']
        if any('gt_label' not in s for s in samples):
            self.enabled = False
            print_log(
                'online probe: the training data have no labels (e.g. '
                'UnlabeledImageFolder), so the probe is off for this run',
                logger='current')
            return
        model = runner_model(runner)
        labels = torch.cat([s.gt_label for s in samples])
        with torch.no_grad(), preserved_random_state():
            inputs = model.data_preprocessor(data_batch, True)['inputs']
            view = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            was_training = model.training
            model.eval()
            features = runner.val_loop.features(view)
            model.train(was_training)
        self.step(features, labels.to(features.device), runner)

    def step(self, features: Tensor, labels: Tensor, runner) -> None:
        """One SGD step of the probe on ``(B, D)`` features. In a
        distributed run the gradients and BatchNorm statistics are
        averaged over the processes, so that every process holds the same
        probe."""
        if self.probe is None:
            self.build(features.shape[1], runner, features.device)
        if len(features) < 2:  # BatchNorm needs two samples
            return
        self.probe.train()
        loss = F.cross_entropy(self.probe(features), labels)
        self.optimizer.zero_grad()
        loss.backward()
        for param in self.probe.parameters():
            all_reduce(param.grad, op='mean')
        self.optimizer.step()
        norm = self.probe.norm
        for stat in (norm.running_mean, norm.running_var):
            all_reduce(stat, op='mean')

    def build(self, in_channels: int, runner, device) -> None:
        classes = runner.val_loop.dataloader.dataset.metainfo.get('classes')
        if not classes:
            raise ValueError(
                'online probe: the validation data set names no classes '
                '(metainfo["classes"]); the probe needs them')
        self.probe = LinearProbe(in_channels, len(classes)).to(device)
        for param in self.probe.parameters():
            broadcast(param.data, src=0)
        self.optimizer = torch.optim.SGD(self.probe.parameters(),
                                         **self.optimizer_cfg)
        if self.pending_state is not None:
            self.probe.load_state_dict(self.pending_state['state_dict'])
            self.optimizer.load_state_dict(self.pending_state['optimizer'])
            self.pending_state = None

    # ----- validation: the kNN monitor's query features -----
    def before_val_epoch(self, runner) -> None:
        self.correct = self.seen = 0

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        if self.probe is None or not outputs:
            return
        features = torch.stack([o['feature'] for o in outputs])
        labels = torch.tensor([o['gt_label'] for o in outputs],
                              device=features.device)
        self.probe.eval()
        with torch.no_grad():
            predicted = self.probe(features).argmax(dim=1)
        self.correct += int((predicted == labels).sum())
        self.seen += len(labels)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.probe is None or metrics is None:
            return
        counts = torch.tensor([self.correct, self.seen], dtype=torch.float64)
        all_reduce(counts)
        top1 = float(100 * counts[0] / counts[1].clamp(1))
        # RuntimeInfoHook has already put the loop's metrics in the message
        # hub, from which LoggerHook writes the log line and scalars.
        metrics[PROBE_METRIC] = top1
        runner.message_hub.update_scalar(f'val/{PROBE_METRIC}', top1)

    # ----- checkpoints -----
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.probe is not None:
            checkpoint[PROBE_KEY] = dict(
                state_dict=self.probe.state_dict(),
                optimizer=self.optimizer.state_dict())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if PROBE_KEY in checkpoint:
            self.pending_state = checkpoint[PROBE_KEY]
            self.probe = self.optimizer = None
