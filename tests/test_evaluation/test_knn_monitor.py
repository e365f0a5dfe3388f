"""The kNN monitor: the weighted vote, the metric, feature pooling, the
class-balanced subset and KNNValLoop in a real Runner."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner
from torch import nn

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, MULAN_DEMO_CONFIG, REPO
from mmsiam.datasets import ClassBalancedSubset
from mmsiam.engine.runner import knn_summary
from mmsiam.engine.runner.batch_norm_statistics import (
    estimated_batch_norm_statistics, unestimated_batch_norms)
from mmsiam.engine.runner.knn_val_loop import pooled_pixels
from mmsiam.evaluation import (KNNAccuracy, feature_spectrum,
                               weighted_knn_scores)
from mmsiam.models.utils import global_feature



def reference_scores(queries, bank, labels, num_classes, k, t):
    """The vote written out neighbour by neighbour."""
    scores = np.zeros((len(queries), num_classes))
    bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
    for q, query in enumerate(queries):
        similarity = bank @ (query / np.linalg.norm(query))
        for j in np.argsort(-similarity)[:k]:
            scores[q, labels[j]] += np.exp(similarity[j] / t)
    return scores


def test_weighted_knn_scores_match_the_written_out_vote():
    rng = np.random.default_rng(0)
    queries, bank = rng.normal(size=(7, 5)), rng.normal(size=(30, 5)) * 3
    labels = rng.integers(0, 4, size=30)
    got = weighted_knn_scores(
        torch.tensor(queries), torch.tensor(bank), torch.tensor(labels), 4,
        k=6, temperature=0.5, chunk_size=3)
    np.testing.assert_allclose(
        got.numpy(), reference_scores(queries, bank, labels, 4, 6, 0.5),
        rtol=1e-5)
    # k beyond the bank size uses the whole bank.
    everything = weighted_knn_scores(
        torch.tensor(queries), torch.tensor(bank), torch.tensor(labels), 4,
        k=100, temperature=0.5)
    np.testing.assert_allclose(
        everything.numpy(),
        reference_scores(queries, bank, labels, 4, 30, 0.5), rtol=1e-5)


def test_knn_accuracy_top1_and_top5():
    metric = KNNAccuracy(k=2, temperature=1., topk=(1, 3))
    # Two clusters: class 0 along x, class 1 along y; class 2 far off.
    metric.set_memory_bank(
        torch.tensor([[1., 0.], [1., .1], [0., 1.], [.1, 1.], [-1., -1.]]),
        torch.tensor([0, 0, 1, 1, 2]))
    queries = [([2., .1], 0), ([.1, 3.], 1), ([1., .05], 1)]
    metric.process(None, [
        dict(feature=torch.tensor(f), gt_label=y) for f, y in queries
    ])
    result = metric.evaluate(3)
    # The third query's neighbours are both of class 0: wrong at top-1,
    # right among all three classes.
    assert result['knn/top1'] == pytest.approx(200 / 3)
    assert result['knn/top3'] == pytest.approx(100.)


def test_knn_accuracy_needs_a_memory_bank():
    metric = KNNAccuracy()
    metric.process(None, [dict(feature=torch.ones(3), gt_label=0)])
    with pytest.raises(RuntimeError, match='KNNValLoop'):
        metric.evaluate(1)
    with pytest.raises(ValueError, match='temperature'):
        KNNAccuracy(temperature=0)


def test_feature_spectrum_counts_the_directions_used():
    generator = torch.Generator().manual_seed(0)
    isotropic = torch.randn(20000, 8, generator=generator)
    spectrum = feature_spectrum(isotropic)
    assert spectrum['effective_rank'] == pytest.approx(8, rel=0.01)
    assert spectrum['first_component'] == pytest.approx(1 / 8, rel=0.1)
    # Two equal directions, any offset and scale: rank 2, half on each.
    line = torch.randn(500, 1, generator=generator)
    line -= line.mean()
    plane = torch.cat([line, -line], 0) @ torch.tensor([[3., 0., 0.]]) + \
        torch.cat([line, line], 0) @ torch.tensor([[0., 0., 3.]]) + 7
    spectrum = feature_spectrum(plane)
    assert spectrum['effective_rank'] == pytest.approx(2, rel=1e-6)
    assert spectrum['first_component'] == pytest.approx(0.5, rel=1e-6)
    collapsed = feature_spectrum(torch.ones(10, 4))
    assert collapsed == dict(effective_rank=0., first_component=1.)


class _Encoder(nn.Module):

    def __init__(self, num_extra_tokens=None, out_type=None):
        super().__init__()
        if num_extra_tokens is not None:
            self.num_extra_tokens = num_extra_tokens
        self.out_type = out_type


def test_global_feature_pools_each_output_kind():
    maps = torch.arange(2 * 3 * 2 * 2.).reshape(2, 3, 2, 2)
    torch.testing.assert_close(
        global_feature((maps * 0, maps), 'avg', _Encoder()),
        maps.mean((2, 3)))
    with pytest.raises(ValueError, match="feature='avg'"):
        global_feature((maps, ), 'cls', _Encoder())
    tokens = torch.randn(2, 5, 4)
    torch.testing.assert_close(
        global_feature(tokens, 'cls', _Encoder(1)), tokens[:, 0])
    torch.testing.assert_close(
        global_feature((tokens, ), 'avg', _Encoder(1)),
        tokens[:, 1:].mean(1))
    with pytest.raises(ValueError, match='no cls token'):
        global_feature(tokens, 'cls', _Encoder())
    cls = torch.randn(2, 4)
    assert global_feature((cls, ), 'cls', _Encoder(1, 'cls_token')) is cls
    with pytest.raises(ValueError, match="out_type='cls_token'"):
        global_feature((cls, ), 'avg', _Encoder(1, 'cls_token'))


def test_class_balanced_subset_of_mnist5k():
    subset = ClassBalancedSubset(
        dict(type='MNIST5k', split='val', pipeline=[]), num_per_class=3)
    labels = [subset[i]['gt_label'] for i in range(len(subset))]
    assert len(subset) == 30 and np.bincount(labels).tolist() == [3] * 10
    again = ClassBalancedSubset(
        dict(type='MNIST5k', split='val', pipeline=[]), num_per_class=3)
    assert again.indices.tolist() == subset.indices.tolist()
    other = ClassBalancedSubset(
        dict(type='MNIST5k', split='val', pipeline=[]), num_per_class=3,
        seed=1)
    assert other.indices.tolist() != subset.indices.tolist()
    assert subset.metainfo['classes'][0] == '0'
    with pytest.raises(ValueError, match='class 0 of MNIST5k has 100'):
        ClassBalancedSubset(
            dict(type='MNIST5k', split='val', pipeline=[]),
            num_per_class=101)


def _runner(config, tmp_path, **val_cfg):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path)
    cfg.val_cfg.bank_dataloader.dataset.num_per_class = 6
    cfg.val_dataloader.dataset.num_per_class = 3
    cfg.val_cfg.bank_dataloader.batch_size = 16
    cfg.val_dataloader.batch_size = 8
    cfg.val_cfg.update(val_cfg)
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False)
    return Runner.from_cfg(cfg)


def _direct_features(runner, encoder, feature, dataset):
    model = runner.model
    features = []
    with torch.no_grad():
        for i in range(len(dataset)):
            sample = dataset[i]
            data = model.data_preprocessor(
                dict(inputs=sample['inputs'][None],
                     data_samples=[sample['data_samples']]), False)
            features.append(
                global_feature(encoder(data['inputs']), feature, encoder))
    return torch.cat(features)


@pytest.mark.parametrize('config,branch,feature', [
    (DEMO_CONFIG, 'online', 'cls'),
    (CONMIM_DEMO_CONFIG, 'target', 'avg'),
    (MULAN_DEMO_CONFIG, 'online', 'avg'),
])
def test_knn_val_loop_in_a_runner(config, branch, feature, tmp_path):
    runner = _runner(
        config, tmp_path, branch=branch, feature=feature, start_bn_batches=2)
    loop = runner.val_loop
    assert loop.branch == branch and loop.feature == feature
    torch.manual_seed(3)
    before = torch.get_rng_state()
    metrics = runner.val()
    # The evaluation leaves the random generators as they were.
    assert torch.equal(torch.get_rng_state(), before)
    assert set(metrics) == {
        'knn/top1', 'knn/top5', 'features/effective_rank',
        'features/first_component'
    }
    assert 0 <= metrics['knn/top1'] <= metrics['knn/top5'] <= 100
    # The bank holds the chosen encoder's features in dataset order.
    model = runner.model
    encoder = model.backbone if branch == 'online' else \
        model.target.module[0]
    model.eval()
    bank_dataset = loop.bank_dataloader.dataset
    batch_norms = unestimated_batch_norms(encoder)
    # The ResNet's BatchNorm layers never saw data: the evaluation used
    # statistics of the training views and put their own back.
    assert bool(batch_norms) == (config == MULAN_DEMO_CONFIG)
    with estimated_batch_norm_statistics(encoder, batch_norms,
                                         loop.training_views()):
        expected = _direct_features(runner, encoder, feature, bank_dataset)
    metric = loop.knn_metrics[0]
    torch.testing.assert_close(metric.bank, expected, rtol=1e-4, atol=1e-5)
    assert metrics['features/effective_rank'] == pytest.approx(
        feature_spectrum(expected)['effective_rank'], rel=1e-3)
    assert metric.bank_labels.tolist() == [
        bank_dataset[i]['data_samples'].gt_label.item()
        for i in range(len(bank_dataset))
    ]


def test_estimated_batch_norm_statistics_are_those_of_the_inputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2)).eval()
    inputs = [torch.randn(5, 3, 6, 6) * 3 + 1 for _ in range(3)]
    batch_norms = unestimated_batch_norms(model)
    assert batch_norms == [model[1], model[4]]
    identity = model(inputs[0])
    with estimated_batch_norm_statistics(model, batch_norms,
                                         iter(inputs)) as num_inputs:
        assert num_inputs == 3 and not model.training
        hidden = [model[0](x) for x in inputs]
        # Equal weight per batch (batches of one size: the pooled mean).
        torch.testing.assert_close(
            model[1].running_mean,
            torch.cat(hidden).mean(dim=(0, 2, 3)))
        normalised = model(inputs[0])
        assert not torch.allclose(normalised, identity)
    # The layers' own statistics (never estimated) are back.
    assert unestimated_batch_norms(model) == batch_norms
    assert torch.equal(model[1].running_var, torch.ones(4))
    torch.testing.assert_close(model(inputs[0]), identity)
    # Estimated layers are skipped.
    model.train()(inputs[0])
    assert unestimated_batch_norms(model) == []


def _pixels_and_labels(runner, dataset):
    """Model inputs pooled to 32 x 32 and labels, sample by sample."""
    features, labels = [], []
    for i in range(len(dataset)):
        sample = dataset[i]
        data = runner.model.data_preprocessor(
            dict(inputs=sample['inputs'][None],
                 data_samples=[sample['data_samples']]), False)
        features.append(
            F.adaptive_avg_pool2d(data['inputs'], 32).flatten(1))
        labels.append(sample['data_samples'].gt_label.item())
    return torch.cat(features), torch.tensor(labels)


def test_pooled_pixels_keeps_small_inputs():
    images = torch.randn(2, 3, 8, 6)
    assert torch.equal(pooled_pixels(images, 32), images.flatten(1))
    assert pooled_pixels(torch.randn(2, 3, 64, 48), 32).shape == (2, 3 * 32
                                                                   * 32)
    assert pooled_pixels(torch.randn(2, 3, 64, 20), 32).shape == (2, 3 * 32
                                                                   * 20)


def test_raw_pixel_reference_and_summary(tmp_path):
    runner = _runner(MULAN_DEMO_CONFIG, tmp_path)
    hub = runner.message_hub
    assert knn_summary(hub) is None
    first = runner.val()
    raw = hub.get_info('knn_raw_pixels')
    loop = runner.val_loop
    bank, bank_labels = _pixels_and_labels(runner,
                                           loop.bank_dataloader.dataset)
    queries, labels = _pixels_and_labels(runner, loop.dataloader.dataset)
    scores = weighted_knn_scores(queries, bank, bank_labels, 10)
    assert raw['knn/top1'] == pytest.approx(
        (scores.argmax(1) == labels).float().mean().item() * 100)
    assert set(raw) == {'knn/top1', 'knn/top5'}
    # Scored once per run: a later evaluation keeps the recorded value.
    hub.update_info('knn_raw_pixels', {'knn/top1': -1.})
    hub.update_info('knn_latest', {'knn/top1': 12.34})
    # The summary names the data it measures on (not the training data of
    # a run on photos).
    assert knn_summary(hub) == (f"kNN top-1: random init "
                                f"{first['knn/top1']:.1f} -> trained 12.3 "
                                '(raw pixels -1.0) on MNIST5k val')
    assert knn_summary(hub, start='loaded weights').startswith(
        f"kNN top-1: loaded weights {first['knn/top1']:.1f} -> ")
    runner.val()
    assert hub.get_info('knn_raw_pixels') == {'knn/top1': -1.}
    # Only the evaluation at iteration 0 is the random-init value.
    assert hub.get_info('knn_at_start') == first


def test_knn_val_loop_rejects_bad_settings(tmp_path):
    with pytest.raises(ValueError, match='start_bn_batches must be >= 0'):
        _runner(MULAN_DEMO_CONFIG, tmp_path, start_bn_batches=-1).val_loop
    with pytest.raises(ValueError, match="branch must be one of"):
        _runner(DEMO_CONFIG, tmp_path, branch='teacher').val_loop
    runner = _runner(MULAN_DEMO_CONFIG, tmp_path, feature='cls')
    with pytest.raises(ValueError, match="feature='avg'"):
        runner.val()
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.work_dir = str(tmp_path)
    cfg.val_evaluator = dict(type='Accuracy')
    with pytest.raises(ValueError, match='KNNAccuracy'):
        Runner.from_cfg(cfg).val_loop


def test_imagenet_configs_take_the_knn_base(tmp_path):
    """Each ImageNet paper config lists the kNN base commented out; with it
    enabled (added last to the bases) the config is valid and, where the
    defaults do not fit, says which feature / branch to use."""
    import glob
    knn = REPO + '/configs/_base_/evaluation/knn_imagenet-subset.py'
    configs = [
        p for p in glob.glob(REPO + '/configs/*/*_in1k.py')
        if "# '../_base_/evaluation/knn_imagenet-subset.py'" in open(p).read()
    ]
    assert len(configs) == 6
    for path in configs:
        enabled = tmp_path / 'enabled.py'
        enabled.write_text(f'_base_ = [{path!r}, {knn!r}]\n')
        cfg = Config.fromfile(str(enabled))
        assert cfg.val_cfg.type == 'KNNValLoop'
        assert cfg.val_cfg.bank_dataloader.dataset.num_per_class == 100
        assert cfg.val_evaluator.type == 'KNNAccuracy'
        for loader in (cfg.val_dataloader, cfg.val_cfg.bank_dataloader):
            pipeline = loader.dataset.dataset.pipeline
            assert pipeline[0].type == 'LoadImageOrSkip'
        backbone = cfg.model.backbone.type
        if 'ResNet' in backbone or 'ConMIM' in backbone:
            assert '# With the kNN monitor: val_cfg = dict(feature=' in open(
                path).read(), f'{path}: says nothing on the kNN feature'
