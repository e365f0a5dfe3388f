"""tools/misc/build_mmcv.py: the pieces that decide how mmcv is built."""
import os.path as osp

import pytest

from helpers import REPO, load_tool, run_tool

SCRIPT = osp.join(REPO, 'tools', 'misc', 'build_mmcv.py')
build_mmcv = load_tool('misc/build_mmcv.py')

SETUP_PY = """
extra_compile_args = {'cxx': ['-std=c++14']}
extra_compile_args['cxx'] = ['-std=c++17']
extra_compile_args['cxx'] = ['/std:c++17']
extra_compile_args['nvcc'] += ['-std=c++14']
"""


def test_cxx_standard_follows_torch_headers():
    # torch 2.14's headers refuse anything older than C++20.
    assert build_mmcv.cxx_standard() == 'c++20'


def test_every_std_flag_is_patched(tmp_path):
    setup_py = tmp_path / 'setup.py'
    setup_py.write_text(SETUP_PY)
    build_mmcv.patch_cxx_standard(setup_py, 'c++20')
    text = setup_py.read_text()
    assert 'c++14' not in text and 'c++17' not in text
    assert text.count('-std=c++20') == 3 and text.count('/std:c++20') == 1


def test_cache_folder_is_per_python_torch_and_ops(tmp_path, monkeypatch):
    import torch
    monkeypatch.delenv('FORCE_CUDA', raising=False)
    with_cuda = build_mmcv.cuda_toolkit_present()
    assert with_cuda == torch.cuda.is_available()
    folder = build_mmcv.cache_folder(tmp_path, with_cuda)
    assert folder.parent == tmp_path
    assert torch.__version__.split('+')[0] in folder.name
    assert folder.name.endswith('cpu') != with_cuda
    monkeypatch.setenv('FORCE_CUDA', '1')
    assert build_mmcv.cuda_toolkit_present()


@pytest.mark.slow
def test_installed_mmcv_is_recognised_without_rebuilding():
    proc = run_tool([SCRIPT], timeout=120)
    assert 'already installed' in proc.stdout
    assert 'building' not in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize('flag', ['--help'])
def test_help(flag):
    assert 'cache' in run_tool([SCRIPT, flag]).stdout
