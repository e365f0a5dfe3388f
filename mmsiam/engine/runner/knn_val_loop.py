from typing import Dict, List, Sequence, Tuple, Union

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.logging import print_log
from mmengine.runner import ValLoop
from mmengine.runner.amp import autocast
from torch import Tensor, nn
from torch.utils.data import DataLoader

from mmsiam.models.utils.global_feature import (POOLED_OUT_TYPES,
                                                global_feature)
from mmsiam.registry import LOOPS
from mmsiam.utils.random_state import preserved_random_state

from ..runner_model import runner_model

BRANCHES = ('online', 'target')


@LOOPS.register_module()
class KNNValLoop(ValLoop):
    """Validation of a self-supervised model by weighted kNN on its features.

    Every run encodes the labelled ``bank_dataloader`` (e.g. the train
    split) into a memory bank, gathered from all processes in dataset order,
    hands it to the ``KNNAccuracy`` metrics of the evaluator, then encodes
    the query ``dataloader`` (the val split), whose features the evaluator
    collects and scores. The model is in eval mode. Building and running
    the loop leave the global random generators as they were, so a run with
    the monitor trains exactly like one without it.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Labelled queries (``val_dataloader``).
        evaluator (Evaluator | dict | list): Must hold a ``KNNAccuracy``.
        bank_dataloader (DataLoader | dict): The labelled memory bank, with
            a non-shuffling sampler.
        feature (str): 'cls' token or 'avg' of patch tokens / feature maps
            (see :func:`global_feature`). Defaults to 'cls'.
        branch (str): 'online' (``model.backbone``) or 'target' (the
            momentum encoder, ``model.target.module[0]``). Defaults to
            'online'.
        fp16 (bool): Encode under autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 bank_dataloader: Union[DataLoader, Dict],
                 feature: str = 'cls',
                 branch: str = 'online',
                 fp16: bool = False) -> None:
        # Samplers without a seed draw one from NumPy's generator.
        with preserved_random_state():
            super().__init__(runner, dataloader, evaluator, fp16)
            if isinstance(bank_dataloader, dict):
                bank_dataloader = runner.build_dataloader(
                    bank_dataloader, seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        if branch not in BRANCHES:
            raise ValueError(f"KNNValLoop: branch must be one of {BRANCHES}, "
                             f"got '{branch}'")
        if feature not in POOLED_OUT_TYPES:
            raise ValueError("KNNValLoop: feature must be 'cls' or 'avg', "
                             f"got '{feature}'")
        self.feature = feature
        self.branch = branch
        self.knn_metrics = [
            m for m in self.evaluator.metrics
            if callable(getattr(m, 'set_memory_bank', None))
        ]
        if not self.knn_metrics:
            raise ValueError(
                'KNNValLoop: val_evaluator has no metric with a memory bank;'
                " add dict(type='KNNAccuracy', k=20, temperature=0.07)")

    def encoder(self) -> nn.Module:
        """The encoder of the chosen branch."""
        model = runner_model(self.runner)
        if self.branch == 'online':
            return model.backbone
        if not hasattr(model, 'target'):
            raise ValueError(
                f"KNNValLoop: branch='target' needs a model with a momentum "
                f'target; {type(model).__name__} has none, use '
                "branch='online'")
        return model.target.module[0]

    @torch.no_grad()
    def encode(self, data_batch: dict) -> Tuple[Tensor, list]:
        """Features ``(B, D)`` of a batch and its data samples."""
        data = runner_model(self.runner).data_preprocessor(data_batch, False)
        encoder = self.encoder()
        with autocast(enabled=self.fp16):
            output = encoder(data['inputs'])
        return global_feature(output, self.feature,
                              encoder).float(), data['data_samples']

    def build_memory_bank(self) -> Tuple[Tensor, Tensor]:
        """Features ``(N, D)`` and labels ``(N,)`` of the whole bank dataset,
        in dataset order, on every process."""
        features, labels, indices = [], [], []
        num_batches = len(self.bank_dataloader)
        report_every = max(1, num_batches // 4)
        for i, data_batch in enumerate(self.bank_dataloader):
            feats, samples = self.encode(data_batch)
            features.append(feats)
            labels.append(self._field(samples, 'gt_label', feats.device))
            indices.append(self._field(samples, 'sample_idx', feats.device))
            if (i + 1) % report_every == 0 or i + 1 == num_batches:
                print_log(
                    f'kNN memory bank: {i + 1}/{num_batches} batches '
                    f'({get_world_size()} process(es))', logger='current')
        features, labels, indices = (torch.cat(x)
                                     for x in (features, labels, indices))
        if get_world_size() > 1:
            features, labels, indices = (torch.cat(all_gather(x))
                                         for x in (features, labels, indices))
        size = len(self.bank_dataloader.dataset)
        missing = size - int(indices.unique().numel())
        if missing:
            raise RuntimeError(
                f'KNNValLoop: {missing} of {size} memory-bank samples were '
                'not encoded; bank_dataloader must visit every sample once '
                '(DefaultSampler with shuffle=False)')
        bank = features.new_zeros(size, features.shape[1])
        bank_labels = labels.new_zeros(size)
        # Samplers pad the last batch with repeats: they write the same row.
        bank[indices], bank_labels[indices] = features, labels
        return bank, bank_labels

    @staticmethod
    def _field(samples: Sequence, name: str, device) -> Tensor:
        values = [sample.get(name) for sample in samples]
        if any(v is None for v in values):
            raise KeyError(f"KNNValLoop: data samples lack '{name}'; the "
                           'kNN pipelines must end with PackInputs')
        return torch.as_tensor([int(v) for v in values], device=device)

    def run(self) -> dict:
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        with preserved_random_state():
            bank, bank_labels = self.build_memory_bank()
            for metric in self.knn_metrics:
                metric.set_memory_bank(bank, bank_labels)
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
            metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: dict) -> None:
        self.runner.call_hook(
            'before_val_iter', batch_idx=idx, data_batch=data_batch)
        features, samples = self.encode(data_batch)
        outputs = [
            dict(feature=f, gt_label=int(s.gt_label))
            for f, s in zip(features, samples)
        ]
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_val_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
