"""The generated tiny sets load with the real readers, pipelines and metrics
of mmdet / mmseg / pycocotools / lvis, and ground truth scores perfectly."""
import json

import numpy as np
import pytest
import torch
from mmengine import DefaultScope
from mmengine.config import Config
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from helpers import load_tool

# The scene generator of tools/misc/make_tiny_datasets.py.
make_scene = load_tool('misc/tiny_benchmarks/scenes.py').make_scene


def test_scene_geometry_is_exact():
    scene = make_scene(np.random.default_rng(1), size=(120, 200))
    assert scene.image.shape == (120, 200, 3)
    covered = np.zeros((120, 200), dtype=int)
    for obj in scene.objects:
        x, y, w, h = obj.bbox_xywh
        assert 0 <= x and x + w <= 200 and 0 <= y and y + h <= 120
        ys, xs = np.nonzero(obj.mask)
        assert xs.min() >= np.floor(x) and xs.max() <= np.ceil(x + w)
        covered += obj.mask
    assert covered.max() == 1  # objects never overlap


def _gt_as_predictions(coco, cat2label):
    """mmdet-style predictions that equal the ground truth."""
    results = []
    for img_id in coco.getImgIds():
        info = coco.loadImgs(img_id)[0]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                  a['bbox'][1] + a['bbox'][3]] for a in anns]
        masks = [coco.annToMask(a).astype(bool) for a in anns]
        results.append(dict(
            img_id=img_id,
            ori_shape=(info['height'], info['width']),
            pred_instances=dict(
                bboxes=torch.tensor(boxes, dtype=torch.float32),
                scores=torch.ones(len(anns)),
                labels=torch.tensor(
                    [cat2label[a['category_id']] for a in anns]),
                masks=torch.from_numpy(np.stack(masks)))))
    return results


def _build_dataset(tmp_path, scope, base_cfg, **overrides):
    """The val dataset of an installed mmdet/mmseg config, as inherited."""
    child = tmp_path / 'child_config.py'
    child.write_text(f'_base_ = {base_cfg!r}\n')
    cfg = Config.fromfile(str(child)).val_dataloader.dataset
    cfg.update(overrides)
    registry = __import__(f'{scope}.registry', fromlist=['DATASETS'])
    with DefaultScope.overwrite_default_scope(scope):
        return registry.DATASETS.build(cfg)


@pytest.mark.slow
def test_coco_layout_with_pycocotools_and_mmdet(tiny_benchmarks, tmp_path):
    root = tiny_benchmarks / 'coco'
    ann = root / 'annotations' / 'instances_val2017.json'
    coco = COCO(str(ann))
    assert len(coco.getImgIds()) == 3 and len(coco.getCatIds()) == 80
    for a in coco.loadAnns(coco.getAnnIds()):
        rle = mask_utils.frPyObjects(a['segmentation'], 240, 320)
        assert a['area'] == pytest.approx(float(mask_utils.area(rle).sum()))
    dataset = _build_dataset(
        tmp_path, 'mmdet', 'mmdet::_base_/datasets/coco_instance.py',
        data_root=str(root) + '/')
    assert len(dataset) == 3
    sample = dataset[0]
    assert sample['inputs'].shape[0] == 3
    assert len(sample['data_samples'].gt_instances) > 0

    from mmdet.evaluation import CocoMetric
    metric = CocoMetric(ann_file=str(ann), metric=['bbox', 'segm'])
    metric.dataset_meta = dataset.metainfo
    cat2label = {c: i for i, c in enumerate(dataset.cat_ids)}
    for result in _gt_as_predictions(coco, cat2label):
        metric.process({}, [result])
    scores = metric.evaluate(size=3)
    assert scores['coco/bbox_mAP'] == pytest.approx(1.0)
    assert scores['coco/segm_mAP'] == pytest.approx(1.0)


@pytest.mark.slow
def test_lvis_layout_with_mmdet_and_lvis_metric(tiny_benchmarks, tmp_path):
    root = tiny_benchmarks / 'lvis_v1'
    ann = root / 'annotations' / 'lvis_v1_val.json'
    content = json.loads(ann.read_text())
    assert len(content['categories']) == 1203
    assert {'coco_url', 'neg_category_ids', 'not_exhaustive_category_ids'
            } <= set(content['images'][0])
    dataset = _build_dataset(
        tmp_path, 'mmdet', 'mmdet::_base_/datasets/lvis_v1_instance.py',
        data_root=str(root) + '/')
    assert len(dataset) == 3
    assert len(dataset[0]['data_samples'].gt_instances) > 0

    from mmdet.evaluation import LVISMetric
    metric = LVISMetric(ann_file=str(ann), metric=['bbox', 'segm'])
    metric.dataset_meta = dataset.metainfo
    cat2label = {c: i for i, c in enumerate(dataset.cat_ids)}
    for result in _gt_as_predictions(COCO(str(ann)), cat2label):
        metric.process({}, [result])
    scores = metric.evaluate(size=3)
    assert scores['lvis/bbox_AP'] == pytest.approx(1.0)
    assert scores['lvis/segm_AP'] == pytest.approx(1.0)


@pytest.mark.slow
def test_ade20k_layout_with_mmseg(tiny_benchmarks, tmp_path):
    root = tiny_benchmarks / 'ade' / 'ADEChallengeData2016'
    dataset = _build_dataset(
        tmp_path, 'mmseg', 'mmseg::_base_/datasets/ade20k.py',
        data_root=str(root))
    assert len(dataset) == 3
    sample = dataset[0]
    labels = sample['data_samples'].gt_sem_seg.data
    values = set(labels.unique().tolist())
    # reduce_zero_label: ADE class k is label k-1; 255 is ignored.
    assert values and values <= set(range(150)) | {255}

    from mmseg.evaluation import IoUMetric
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        data_sample = dataset[i]['data_samples']
        gt = data_sample.gt_sem_seg.data
        metric.process({}, [dict(
            pred_sem_seg=dict(data=gt.clone()),
            gt_sem_seg=dict(data=gt))])
    assert metric.evaluate(size=3)['mIoU'] == pytest.approx(100.0)


@pytest.mark.slow
def test_imagenet_layout_with_mmpretrain(tiny_benchmarks):
    from mmpretrain.datasets import ImageNet
    root = str(tiny_benchmarks / 'imagenet')
    train = ImageNet(data_root=root, split='train')
    val = ImageNet(data_root=root, split='val')
    assert len(train) == 40 and len(val) == 30  # 4 and 3 digits per class
    labels = sorted(val.get_data_info(i)['gt_label'] for i in range(30))
    assert labels == sorted(list(range(10)) * 3)
    assert val.get_data_info(0)['img_path'].endswith(
        'val/ILSVRC2012_val_00000001.JPEG')
