"""tools/analysis_tools/benchmark_pipeline.py on the photos scikit-image
ships: every method's pipeline and both official references run."""
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
    argv = [osp.join(REPO, 'configs', *CONFIGS[reference]), '--images', '2']
    if reference:
        argv += ['--reference', reference]
    tool.main(argv)
    out = capsys.readouterr().out
    assert f'photos: {len(tool.PHOTOS)} JPEGs, 500x375 px' in out
    assert float(re.search(r'mmsiam pipeline: ([\d.]+) images/s',
                           out).group(1)) > 0
    assert ('ratio mmsiam / official: x' in out) == bool(reference)
