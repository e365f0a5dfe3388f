from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from torch import Tensor

from mmsiam.registry import METRICS


def weighted_knn_scores(queries: Tensor,
                        bank: Tensor,
                        bank_labels: Tensor,
                        num_classes: int,
                        k: int = 20,
                        temperature: float = 0.07,
                        chunk_size: int = 256) -> Tensor:
    """Class scores of a weighted k-nearest-neighbour vote (InstDisc / DINO).

    Each query takes its ``k`` most cosine-similar memory-bank features;
    neighbour ``j`` votes for its class with weight ``exp(s_j / T)``.

    Args:
        queries (Tensor): ``(Q, D)`` features, any norm.
        bank (Tensor): ``(N, D)`` memory-bank features, any norm.
        bank_labels (Tensor): ``(N,)`` int64 class of each bank feature.
        num_classes (int): C.
        k (int): Neighbours per query (at most N are used).
        temperature (float): T.
        chunk_size (int): Queries per similarity matrix ``(chunk, N)``.

    Returns:
        Tensor: ``(Q, C)`` summed weights, on the device of ``bank``.
    """
    bank = F.normalize(bank.float(), dim=1)
    bank_labels = bank_labels.to(bank.device)
    k = min(k, bank.shape[0])
    scores = []
    for start in range(0, queries.shape[0], chunk_size):
        query = F.normalize(
            queries[start:start + chunk_size].to(bank.device).float(), dim=1)
        similarity, neighbour = (query @ bank.T).topk(k, dim=1)
        votes = torch.zeros(query.shape[0], num_classes, device=bank.device)
        votes.scatter_add_(1, bank_labels[neighbour],
                           (similarity / temperature).exp())
        scores.append(votes)
    return torch.cat(scores)


@METRICS.register_module()
class KNNAccuracy(BaseMetric):
    """Top-k accuracy of a weighted kNN classifier on frozen features.

    The queries are the ``feature`` field of the processed data samples
    (with ``gt_label``); the labelled memory bank is given beforehand with
    :meth:`set_memory_bank` (``KNNValLoop`` does so before every
    evaluation, from its ``bank_dataloader``). Results are collected from
    all processes by mmengine's ``Evaluator``.

    Args:
        k (int): Neighbours per query. Defaults to 20.
        temperature (float): Vote weight ``exp(similarity / T)``.
            Defaults to 0.07.
        topk (Sequence[int]): Reported accuracies, in percent, as
            ``knn/top{k}``. Defaults to (1, 5).
    """
    default_prefix = 'knn'

    def __init__(self,
                 k: int = 20,
                 temperature: float = 0.07,
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if k < 1 or temperature <= 0:
            raise ValueError(f'KNNAccuracy: k must be >= 1 and temperature '
                             f'> 0, got k={k}, temperature={temperature}')
        self.k = k
        self.temperature = temperature
        self.topk = tuple(topk)
        self.bank: Optional[Tensor] = None
        self.bank_labels: Optional[Tensor] = None

    def set_memory_bank(self, features: Tensor, labels: Tensor) -> None:
        """Features ``(N, D)`` and labels ``(N,)`` the queries vote with."""
        if features.shape[0] != labels.shape[0] or features.dim() != 2:
            raise ValueError('KNNAccuracy: memory bank features must be '
                             '(N, D) with N labels; got '
                             f'{tuple(features.shape)} and '
                             f'{tuple(labels.shape)}')
        self.bank, self.bank_labels = features, labels.long()

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                dict(
                    feature=sample['feature'].float().cpu(),
                    gt_label=int(sample['gt_label'])))

    def accuracy(self, queries: Tensor, labels: Tensor, bank: Tensor,
                 bank_labels: Tensor) -> dict:
        """Top-k accuracies (percent) of queries voting with a bank.

        Args:
            queries (Tensor): ``(Q, D)`` features.
            labels (Tensor): ``(Q,)`` their classes.
            bank (Tensor): ``(N, D)`` memory-bank features.
            bank_labels (Tensor): ``(N,)`` their classes.

        Returns:
            dict: ``{'top<k>': percent}`` for every k of ``topk``.
        """
        labels = labels.long().cpu()
        num_classes = int(
            max(int(bank_labels.max()), int(labels.max())) + 1)
        if self.dataset_meta and 'classes' in self.dataset_meta:
            num_classes = max(num_classes, len(self.dataset_meta['classes']))
        scores = weighted_knn_scores(queries, bank, bank_labels, num_classes,
                                     self.k, self.temperature).cpu()
        ranked = scores.argsort(dim=1, descending=True)
        return {
            f'top{k}':
            (ranked[:, :k] == labels[:, None]).any(1).float().mean().item() *
            100
            for k in self.topk
        }

    def compute_metrics(self, results: List[dict]) -> dict:
        if self.bank is None:
            raise RuntimeError(
                'KNNAccuracy has no memory bank: use it as val_evaluator '
                "with val_cfg=dict(type='KNNValLoop', bank_dataloader=...), "
                'or call set_memory_bank() before evaluating')
        queries = torch.stack([r['feature'] for r in results])
        labels = torch.tensor([r['gt_label'] for r in results])
        return self.accuracy(queries, labels, self.bank, self.bank_labels)
