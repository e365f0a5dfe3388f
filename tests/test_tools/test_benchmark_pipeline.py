"""tools/analysis_tools/benchmark_pipeline.py on the photos scikit-image
ships: every method's pipeline and both official references run (the
official codes' own pipelines need checkouts, which the tests lack: their
numbers are in docs/performance.md)."""
import os.path as osp
import re

import cv2
import pytest
import torch

from helpers import REPO, load_tool

CONFIGS = {
    'siameseim': ('siameseim',
                  'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py'),
    'mulan': ('mulan', 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py'),
    None: ('conmim', 'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py'),
}


@pytest.fixture
def one_thread_restored():
    """The tool sets one torch / OpenCV thread (a loader worker); the rest
    of the session gets its threads back."""
    threads, cv2_threads = torch.get_num_threads(), cv2.getNumThreads()
    yield
    torch.set_num_threads(threads)
    cv2.setNumThreads(cv2_threads)


@pytest.mark.parametrize('reference', list(CONFIGS),
                         ids=['siameseim', 'mulan', 'conmim'])
def test_images_per_second_of_the_config_and_its_reference(
        reference, one_thread_restored, capsys):
    tool = load_tool('analysis_tools/benchmark_pipeline.py')
    argv = [osp.join(REPO, 'configs', *CONFIGS[reference]), '--images', '2', '--rounds', '2']
    if reference:
        argv += ['--reference', reference]
    tool.main(argv)
    out = capsys.readouterr().out
    assert f'photos: {len(tool.PHOTOS)} JPEGs, 500x375 px; 2 rounds' in out
    assert 'machine: ' in out
    assert float(re.search(r'mmsiam pipeline: ([\d.]+) images/s',
                           out).group(1)) > 0
    reference_line = re.search(
        r'official (\w+) pipeline \(torchvision, from the spec\): [\d.]+ '
        r'images/s per worker \(median of [\d.]+, [\d.]+\); mmsiam x[\d.]+',
        out)
    assert (reference_line and reference_line.group(1)) == reference


@pytest.mark.parametrize('option', ['--rounds', '--images'])
def test_rounds_and_images_must_be_positive(option):
    tool = load_tool('analysis_tools/benchmark_pipeline.py')
    config = osp.join(REPO, 'configs', *CONFIGS['siameseim'])
    with pytest.raises(SystemExit, match='--rounds and --images must be at '
                       'least 1'):
        tool.main([config, option, '0'])


def test_a_folder_without_the_official_code_is_named(tmp_path):
    tool = load_tool('analysis_tools/benchmark_pipeline.py')
    config = osp.join(REPO, 'configs', *CONFIGS['siameseim'])
    with pytest.raises(SystemExit) as error:
        tool.main([config, '--official-checkout', f'siameseim={tmp_path}'])
    assert str(error.value) == (
        f'error: --official-checkout siameseim={tmp_path}: no models_sim.py '
        'there; expected a git checkout of '
        'https://github.com/OpenGVLab/Siamese-Image-Modeling')


def test_pipelines_are_timed_in_turns_of_ten_samples():
    """So that all meet the same load of a shared machine."""
    tool = load_tool('analysis_tools/benchmark_pipeline.py')
    calls = []
    pipelines = {name: (lambda path, name=name: calls.append((name, path)))
                 for name in ('mmsiam', 'official')}
    rates = tool.paired_rates(pipelines, ['a.jpg', 'b.jpg', 'c.jpg'], 25,
                              warmup=2)
    assert set(rates) == {'mmsiam', 'official'}
    assert all(rate > 0 for rate in rates.values())
    names = [name for name, _ in calls]
    assert names == (['mmsiam'] * 2 + ['official'] * 2 +
                     ['mmsiam'] * 10 + ['official'] * 10 +
                     ['mmsiam'] * 10 + ['official'] * 10 +
                     ['mmsiam'] * 5 + ['official'] * 5)
    timed = [path for name, path in calls[4:] if name == 'official']
    assert timed == [['a.jpg', 'b.jpg', 'c.jpg'][i % 3] for i in range(25)]
