from contextlib import contextmanager
from logging import WARNING
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_world_size
from mmengine.logging import MessageHub, print_log
from mmengine.runner import ValLoop
from mmengine.runner.amp import autocast
from torch import Tensor, nn
from torch.utils.data import DataLoader

from mmsiam.evaluation.metrics.feature_spectrum import feature_spectrum
from mmsiam.models.utils.global_feature import (POOLED_OUT_TYPES,
                                                global_feature)
from mmsiam.registry import LOOPS
from mmsiam.utils import broadcast_from_process0
from mmsiam.utils.random_state import preserved_random_state

from ..runner_model import runner_model
from .batch_norm_statistics import (estimated_batch_norm_statistics,
                                    unestimated_batch_norms)

BRANCHES = ('online', 'target')
# Runtime info of the message hub (saved in checkpoints, so a resumed run
# still knows them): the metrics of the first evaluation before training,
# of the latest evaluation and of the raw-pixel reference.
KNN_AT_START = 'knn_at_start'
KNN_LATEST = 'knn_latest'
KNN_RAW_PIXELS = 'knn_raw_pixels'
KNN_DATA = 'knn_data'
RAW_PIXELS_SUFFIX = '_raw_pixels'


def pooled_pixels(inputs: Tensor, size: Optional[int]) -> Tensor:
    """The raw-pixel feature: model inputs average-pooled to at most
    ``size x size`` and flattened.

    Args:
        inputs (Tensor): ``(B, C, H, W)`` preprocessed images.
        size (int, optional): Largest side kept; None keeps ``H x W``.

    Returns:
        Tensor: ``(B, C * h * w)`` with ``h, w = min(H, size), min(W,
        size)``.
    """
    inputs = inputs.float()
    height, width = inputs.shape[-2:]
    if size is not None and max(height, width) > size:
        inputs = F.adaptive_avg_pool2d(
            inputs, (min(height, size), min(width, size)))
    return inputs.flatten(1)


def knn_summary(message_hub: MessageHub,
                key: str = 'knn/top1',
                start: str = 'random init') -> Optional[str]:
    """``'kNN top-1: random init X -> trained Y (raw pixels Z) on MNIST5k
    val'`` (the data set the monitor measures on, which need not be the
    training data) from what
    :class:`KNNValLoop` recorded in ``message_hub``, or None when the run
    had no evaluation before and after training.

    Args:
        message_hub (MessageHub): The runner's.
        key (str): The metric reported. Defaults to 'knn/top1'.
        start (str): What the model before training was, e.g. 'loaded
            weights' for a run that starts from ``load_from``.
    """
    before = message_hub.get_info(KNN_AT_START)
    latest = message_hub.get_info(KNN_LATEST)
    if not before or not latest or key not in before or key not in latest:
        return None
    name = key.split('/')[-1].replace('top', 'top-')
    line = (f'kNN {name}: {start} {before[key]:.1f} -> trained '
            f'{latest[key]:.1f}')
    raw = message_hub.get_info(KNN_RAW_PIXELS)
    if raw and key in raw:
        line += f' (raw pixels {raw[key]:.1f})'
    data = message_hub.get_info(KNN_DATA)
    if data:
        line += f' on {data}'
    return line


def describe_dataset(dataset) -> str:
    """The data set inside any wrappers, by class and split: 'MNIST5k
    val'."""
    while hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return f'{type(dataset).__name__} {getattr(dataset, "split", "")}'.strip()


@LOOPS.register_module()
class KNNValLoop(ValLoop):
    """Validation of a self-supervised model by weighted kNN on its features.

    Every run encodes the labelled ``bank_dataloader`` (e.g. the train
    split) into a memory bank, gathered from all processes in dataset order,
    hands it to the ``KNNAccuracy`` metrics of the evaluator, then encodes
    the query ``dataloader`` (the val split), whose features the evaluator
    collects and scores. The model is in eval mode. Building and running
    the loop leave the global random generators as they were, so a run with
    the monitor trains exactly like one without it. With several processes
    every process encodes with process 0's encoder buffers (BatchNorm
    statistics: those a checkpoint holds), so the score is that of the
    checkpoint, whatever the process count and after a resume.

    Every evaluation also logs the spectrum of the memory-bank features
    (:func:`feature_spectrum`: ``features/effective_rank`` and
    ``features/first_component``), which shows dimensional collapse.

    For references on the same data, the first evaluation of a run also
    scores the raw pixels (:func:`pooled_pixels` of the model inputs, same
    k, T and splits) and logs them once. The metrics before training, of
    the latest evaluation and of the raw pixels are kept in the message
    hub's runtime info (and so in checkpoints); :func:`knn_summary` turns
    them into the line ``tools/train.py`` prints at the end.

    BatchNorm layers that never saw data (before training: mean 0,
    variance 1) are the identity in eval mode, whereas at every later
    evaluation they hold statistics of the training views; a random ResNet
    evaluated so is a different network from the one training starts with
    (in the MNIST5k MULAN demos its kNN top-1 is 85.7 with them, 70.0 with
    estimated statistics; docs/small_scale.md). For such an evaluation the
    loop estimates their statistics from the first ``start_bn_batches``
    training batches (:func:`estimated_batch_norm_statistics`: every view
    through the encoder, no weight changes) and restores them afterwards.

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
        raw_pixel_size (int, optional): Side to which the raw-pixel
            reference pools the inputs (``C x 32 x 32`` values by default);
            None keeps full size. Defaults to 32.
        raw_pixels (bool): Score the raw-pixel reference (one more pass of
            both data loaders, once per run). Defaults to True.
        start_bn_batches (int): Training batches from which never-estimated
            BatchNorm statistics of the encoder are estimated for an
            evaluation; 0 evaluates them as they are. Defaults to 20.
        online_probe (dict, optional): Arguments of an
            :class:`OnlineLinearProbeHook` to train a linear probe on the
            same feature during pretraining and score it with the kNN
            (``probe/top1``); None: no probe. Defaults to None.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 bank_dataloader: Union[DataLoader, Dict],
                 feature: str = 'cls',
                 branch: str = 'online',
                 fp16: bool = False,
                 raw_pixel_size: Optional[int] = 32,
                 raw_pixels: bool = True,
                 start_bn_batches: int = 20,
                 online_probe: Optional[dict] = None) -> None:
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
        self.raw_pixel_size = raw_pixel_size
        self.raw_pixels = raw_pixels
        if start_bn_batches < 0:
            raise ValueError('KNNValLoop: start_bn_batches must be >= 0, got '
                             f'{start_bn_batches}')
        self.start_bn_batches = start_bn_batches
        if online_probe is not None:
            if not isinstance(online_probe, dict):
                raise TypeError(
                    'KNNValLoop: online_probe must be a dict of '
                    'OnlineLinearProbeHook arguments or None, got '
                    f'{online_probe!r}; on the command line set its keys '
                    '(val_cfg.online_probe.lr=0.05) or None')
            from mmsiam.engine.hooks import OnlineLinearProbeHook
            runner.register_hook(OnlineLinearProbeHook(**online_probe))
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

    def training_views(self) -> Iterator[Tensor]:
        """Every preprocessed view ``(B, C, H, W)`` of the first
        ``start_bn_batches`` training batches."""
        preprocessor = runner_model(self.runner).data_preprocessor
        for i, data_batch in enumerate(self.runner.train_loop.dataloader):
            if i == self.start_bn_batches:
                return
            inputs = preprocessor(data_batch, True)['inputs']
            yield from (inputs if isinstance(inputs, (list, tuple)) else
                        [inputs])

    @contextmanager
    def batch_norm_statistics(self) -> Iterator[None]:
        """Within the block, BatchNorm layers of the encoder that never saw
        data hold statistics of :meth:`training_views`."""
        encoder = self.encoder()
        batch_norms = unestimated_batch_norms(encoder)
        if not batch_norms or not self.start_bn_batches:
            yield
            return
        if self.runner.train_loop is None:
            print_log(
                f'KNNValLoop: {len(batch_norms)} BatchNorm layers of the '
                'encoder never saw data and the run has no training data '
                'to estimate their statistics from; evaluating them as '
                'they are (identity)', logger='current', level=WARNING)
            yield
            return
        num_batches = min(self.start_bn_batches,
                          len(self.runner.train_loop.dataloader))
        with estimated_batch_norm_statistics(
                encoder, batch_norms, self.training_views()) as num_views:
            print_log(
                f'kNN monitor: {len(batch_norms)} BatchNorm layers of the '
                'encoder never saw data; this evaluation uses their '
                f'statistics on the {num_views} views of {num_batches} '
                'training batches', logger='current')
            yield

    @torch.no_grad()
    def encode(self,
               data_batch: dict,
               raw_pixels: bool = False) -> Tuple[Tensor, list]:
        """Features ``(B, D)`` of a batch and its data samples: the
        encoder's, or with ``raw_pixels`` the :func:`pooled_pixels`."""
        data = runner_model(self.runner).data_preprocessor(data_batch, False)
        if raw_pixels:
            return pooled_pixels(data['inputs'],
                                 self.raw_pixel_size), data['data_samples']
        return self.features(data['inputs']), data['data_samples']

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        """The evaluation feature ``(B, D)`` of preprocessed ``(B, C, H,
        W)`` images: the chosen branch's encoder, pooled as ``feature``
        says, in fp32."""
        encoder = self.encoder()
        with autocast(enabled=self.fp16):
            output = encoder(images)
        return global_feature(output, self.feature, encoder).float()

    def encode_dataset(self,
                       dataloader: DataLoader,
                       name: str = 'kNN memory bank',
                       raw_pixels: bool = False) -> Tuple[Tensor, Tensor]:
        """Features ``(N, D)`` and labels ``(N,)`` of a whole dataset, in
        dataset order, on every process."""
        features, labels, indices = [], [], []
        num_batches = len(dataloader)
        report_every = max(1, num_batches // 4)
        for i, data_batch in enumerate(dataloader):
            feats, samples = self.encode(data_batch, raw_pixels)
            features.append(feats)
            labels.append(self._field(samples, 'gt_label', feats.device))
            indices.append(self._field(samples, 'sample_idx', feats.device))
            if (i + 1) % report_every == 0 or i + 1 == num_batches:
                print_log(
                    f'{name}: {i + 1}/{num_batches} batches '
                    f'({get_world_size()} process(es))', logger='current')
        features, labels, indices = (torch.cat(x)
                                     for x in (features, labels, indices))
        if get_world_size() > 1:
            features, labels, indices = (torch.cat(all_gather(x))
                                         for x in (features, labels, indices))
        size = len(dataloader.dataset)
        missing = size - int(indices.unique().numel())
        if missing:
            raise RuntimeError(
                f'KNNValLoop: {missing} of {size} samples were not encoded '
                f'({name}); its dataloader must visit every sample once '
                '(DefaultSampler with shuffle=False)')
        dataset_features = features.new_zeros(size, features.shape[1])
        dataset_labels = labels.new_zeros(size)
        # Samplers pad the last batch with repeats: they write the same row.
        dataset_features[indices], dataset_labels[indices] = features, labels
        return dataset_features, dataset_labels

    def build_memory_bank(self) -> Tuple[Tensor, Tensor]:
        """Encoder features ``(N, D)`` and labels ``(N,)`` of the bank
        dataset, in dataset order, on every process."""
        return self.encode_dataset(self.bank_dataloader)

    def raw_pixel_metrics(self) -> dict:
        """kNN metrics of the raw pixels, named like the encoder's (e.g.
        ``knn/top1``)."""
        bank, bank_labels = self.encode_dataset(
            self.bank_dataloader, 'raw-pixel memory bank', raw_pixels=True)
        queries, labels = self.encode_dataset(
            self.dataloader, 'raw-pixel queries', raw_pixels=True)
        metrics = {}
        for metric in self.knn_metrics:
            prefix = f'{metric.prefix}/' if metric.prefix else ''
            for key, value in metric.accuracy(queries, labels, bank,
                                              bank_labels).items():
                metrics[prefix + key] = value
        return metrics

    def log_raw_pixel_reference(self) -> None:
        """Score the raw pixels once per run (also after a resume: the
        value is kept in the message hub)."""
        hub = self.runner.message_hub
        if not self.raw_pixels or hub.get_info(KNN_RAW_PIXELS) is not None:
            return
        metrics = self.raw_pixel_metrics()
        hub.update_info(KNN_RAW_PIXELS, metrics)
        # In vis_data/scalars.json too, e.g. 'knn/top1_raw_pixels', for
        # plots (plot_curves.py) that draw it as a reference line.
        self.runner.visualizer.add_scalars(
            {f'{k}{RAW_PIXELS_SUFFIX}': v for k, v in metrics.items()},
            step=0)
        shape = f'{self.raw_pixel_size} x {self.raw_pixel_size}' \
            if self.raw_pixel_size else 'full-size'
        print_log(
            f'kNN reference on raw pixels ({shape} model inputs, same k, T '
            'and data): ' + ', '.join(f'{k}: {v:.2f}'
                                      for k, v in metrics.items()),
            logger='current')

    def record(self, metrics: dict) -> None:
        """Keep the metrics before training and the latest ones in the
        message hub (for :func:`knn_summary`)."""
        hub = self.runner.message_hub
        if self.runner.iter == 0 and hub.get_info(KNN_AT_START) is None:
            hub.update_info(KNN_AT_START, dict(metrics))
        hub.update_info(KNN_LATEST, dict(metrics))
        hub.update_info(KNN_DATA, describe_dataset(self.dataloader.dataset))

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
            self.log_raw_pixel_reference()
            with self.batch_norm_statistics():
                # Process 0's BatchNorm statistics, which checkpoints save,
                # on every process: FSDP never synchronises buffers and
                # DDP's broadcast_buffers leaves each process with its own
                # last batch's update, so a process's own statistics would
                # make the score depend on the process count and on
                # whether the run was resumed.
                broadcast_from_process0(self.encoder().buffers())
                bank, bank_labels = self.build_memory_bank()
                for metric in self.knn_metrics:
                    metric.set_memory_bank(bank, bank_labels)
                for idx, data_batch in enumerate(self.dataloader):
                    self.run_iter(idx, data_batch)
            metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
            metrics.update({
                f'features/{key}': value
                for key, value in feature_spectrum(bank).items()
            })
        self.record(metrics)
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
