"""tools/misc/make_tiny_datasets.py as a user runs it."""
import os.path as osp

import pytest

from helpers import REPO, run_tool

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

SCRIPT = osp.join(REPO, 'tools', 'misc', 'make_tiny_datasets.py')


def test_real_benchmark_layout(tiny_benchmarks):
    expected = [
        'coco/annotations/instances_train2017.json',
        'coco/annotations/instances_val2017.json',
        'coco/train2017/000000000001.jpg', 'coco/val2017/000000000005.jpg',
        'lvis_v1/annotations/lvis_v1_train.json',
        'lvis_v1/annotations/lvis_v1_val.json',
        'lvis_v1/val2017/000000000007.jpg',
        'ade/ADEChallengeData2016/images/training/ADE_train_00000004.jpg',
        'ade/ADEChallengeData2016/annotations/validation/'
        'ADE_val_00000003.png',
        'imagenet/meta/train.txt', 'imagenet/meta/val.txt',
        'imagenet/train/n00000009/n00000009_40.JPEG',
        'imagenet/val/ILSVRC2012_val_00000030.JPEG',
    ]
    for rel in expected:
        assert (tiny_benchmarks / rel).is_file(), rel


def test_existing_folders_are_not_overwritten(tiny_benchmarks):
    ann = tiny_benchmarks / 'coco/annotations/instances_val2017.json'
    before = ann.read_bytes()
    proc = run_tool([SCRIPT, tiny_benchmarks, '--which', 'coco'],
                    check=False)
    assert proc.returncode != 0 and 'already exist' in proc.stdout
    assert ann.read_bytes() == before


def test_same_seed_same_data(tmp_path):
    for name in ('a', 'b'):
        run_tool([SCRIPT, tmp_path / name, '--which', 'coco',
                  '--num-train', 1, '--num-val', 1, '--seed', 3])
    rel = 'coco/annotations/instances_train2017.json'
    assert (tmp_path / 'a' / rel).read_text() == (tmp_path / 'b' /
                                                  rel).read_text()
