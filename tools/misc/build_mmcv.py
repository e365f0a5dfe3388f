#!/usr/bin/env python
"""Build mmcv (with compiled ops) from its source package and cache the wheel.

PyPI ships mmcv 2.1.0 only as a source package, and its ``setup.py`` forces a
C++ standard older than the one the torch headers of this stack need. This
script

1. returns at once when the requested mmcv with working ops is installed;
2. otherwise installs a wheel cached for this torch build, if there is one;
3. otherwise downloads the source package, switches the C++ standard to the
   one the installed torch headers require, builds a wheel with
   ``MMCV_WITH_OPS=1`` (plus ``FORCE_CUDA=1`` when a CUDA toolkit and a GPU
   are present) and ``--no-build-isolation``, stores it in the cache and
   installs it.

The cache lives outside the repository, in ``$MMSIAM_WHEEL_CACHE`` or
``~/.cache/mmsiam/wheels``, one folder per torch build, so a second
``make env`` on the same machine takes seconds instead of ~20 minutes.

Run it with the Python of the environment to install into::

    .venv/bin/python tools/misc/build_mmcv.py [--version 2.1.0] [--jobs N]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

DEFAULT_CACHE = Path.home() / '.cache' / 'mmsiam' / 'wheels'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build mmcv with ops from source and cache the wheel.')
    parser.add_argument('--version', default='2.1.0', help='mmcv version')
    parser.add_argument(
        '--cache-dir',
        type=Path,
        default=Path(os.environ.get('MMSIAM_WHEEL_CACHE', DEFAULT_CACHE)),
        help='wheel cache (default: $MMSIAM_WHEEL_CACHE or %(default)s)')
    parser.add_argument(
        '--jobs',
        type=int,
        default=int(os.environ.get('MAX_JOBS', os.cpu_count() or 1)),
        help='parallel compile jobs (default: $MAX_JOBS or all cores)')
    parser.add_argument(
        '--force', action='store_true',
        help='rebuild even if a cached wheel exists')
    return parser.parse_args(argv)


def log(msg):
    print(f'[build_mmcv] {msg}', flush=True)


def check_installed_mmcv(version):
    """'' if ``mmcv==version`` imports with its compiled ops, else why not."""
    code = ('import mmcv, sys; from mmcv.ops import nms, RoIAlign; '
            f'assert mmcv.__version__ == {version!r}, mmcv.__version__')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True)
    return '' if proc.returncode == 0 else (proc.stderr.strip().splitlines()
                                            or ['failed'])[-1]


def cuda_toolkit_present():
    """Build CUDA ops where a CUDA torch, nvcc and a GPU are present.

    A GPU-less build host (nvcc but no device) builds CPU ops unless
    ``FORCE_CUDA=1`` is set, which then also needs ``TORCH_CUDA_ARCH_LIST``.
    """
    import torch
    from torch.utils.cpp_extension import CUDA_HOME
    if os.environ.get('FORCE_CUDA') == '1':
        return True
    return (torch.version.cuda is not None and CUDA_HOME is not None
            and torch.cuda.is_available())


def cxx_standard():
    """The C++ standard the installed torch headers require."""
    import torch
    header = Path(torch.__file__).parent / 'include' / 'torch' / 'csrc' / \
        'api' / 'include' / 'torch' / 'all.h'
    if header.exists() and '202002L' in header.read_text():
        return 'c++20'
    return 'c++17'


def cache_folder(cache_dir, with_cuda):
    import torch
    ops = f'cuda{torch.version.cuda}' if with_cuda else 'cpu'
    tag = f'py{sys.version_info.major}{sys.version_info.minor}-' \
          f'torch{torch.__version__}-{ops}'
    return cache_dir / re.sub(r'[^A-Za-z0-9_.+-]', '_', tag)


def pip(*args, **kwargs):
    return subprocess.run([sys.executable, '-m', 'pip', *args], **kwargs)


def install_wheel(wheel):
    """Install the wheel and mmcv's own dependencies (addict, mmengine...)."""
    log(f'installing {wheel}')
    pip('install', '--force-reinstall', '--no-deps', str(wheel), check=True)
    pip('install', str(wheel), check=True)


def patch_cxx_standard(setup_py, std):
    text = setup_py.read_text()
    patched = re.sub(r'-std=c\+\+1[47]', f'-std={std}', text)
    patched = re.sub(r'/std:c\+\+1[47]', f'/std:{std}', patched)
    setup_py.write_text(patched)
    log(f'patched {setup_py.name}: C++ standard -> {std}')


def run_build(src_dir, out_dir, env, log_file):
    """Run ``pip wheel`` and show ninja's [done/total] progress."""
    cmd = [sys.executable, '-m', 'pip', 'wheel', '-v', '--no-deps',
           '--no-build-isolation', '-w', str(out_dir), str(src_dir)]
    start = time.time()
    progress = re.compile(r'^\[(\d+)/(\d+)\]')
    with open(log_file, 'w') as f, subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1) as proc:
        for line in proc.stdout:
            f.write(line)
            match = progress.match(line.strip())
            if match:
                minutes = (time.time() - start) / 60
                log(f'compiled {match.group(1)}/{match.group(2)} '
                    f'({minutes:.1f} min)')
        proc.wait()
    return proc.returncode


def build_wheel(args, target):
    with_cuda = cuda_toolkit_present()
    std = cxx_standard()
    log(f'building mmcv {args.version} with ops '
        f'({"CUDA + CPU" if with_cuda else "CPU"}, {std}, {args.jobs} jobs); '
        'this takes ~20 minutes on 2 cores')
    target.mkdir(parents=True, exist_ok=True)
    log_file = target / f'mmcv-{args.version}-build.log'
    with tempfile.TemporaryDirectory(prefix='mmcv-build-') as tmp:
        tmp = Path(tmp)
        log('downloading the source package')
        pip('download', '--no-deps', '--no-binary', ':all:',
            '--no-build-isolation', f'mmcv=={args.version}', '-d', str(tmp),
            check=True, stdout=subprocess.DEVNULL)
        sdist = next(tmp.glob(f'mmcv-{args.version}.tar.gz'))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter='data')
        src = tmp / f'mmcv-{args.version}'
        patch_cxx_standard(src / 'setup.py', std)
        env = dict(os.environ, MMCV_WITH_OPS='1', MAX_JOBS=str(args.jobs),
                   FORCE_CUDA='1' if with_cuda else '0')
        dist = tmp / 'dist'
        if run_build(src, dist, env, log_file) != 0:
            tail = ''.join(log_file.read_text().splitlines(True)[-30:])
            sys.exit(f'{tail}\n[build_mmcv] FAILED: the mmcv build did not '
                     f'finish. Full log: {log_file}\n[build_mmcv] Fix the '
                     'cause above (compiler, setuptools>=77.0.3,<81, torch '
                     'installed in this environment), then rerun: '
                     f'{sys.executable} {__file__}')
        wheel = next(dist.glob('mmcv-*.whl'))
        # Copy under a temporary name, then rename: an interrupted copy
        # never leaves a broken wheel in the cache.
        partial = target / (wheel.name + '.partial')
        shutil.copy2(wheel, partial)
        partial.rename(target / wheel.name)
    log(f'cached wheel in {target}')
    return target / wheel.name


def main():
    args = parse_args()
    if not args.force and not check_installed_mmcv(args.version):
        log(f'mmcv {args.version} with ops already installed')
        return
    target = cache_folder(args.cache_dir, cuda_toolkit_present())
    cached = sorted(target.glob(f'mmcv-{args.version}-*.whl'))
    wheel = cached[-1] if cached and not args.force else build_wheel(
        args, target)
    install_wheel(wheel)
    problem = check_installed_mmcv(args.version)
    if problem:
        sys.exit(f'[build_mmcv] mmcv was installed from {wheel} but '
                 f'`from mmcv.ops import nms, RoIAlign` fails: {problem}\n'
                 '[build_mmcv] if the wheel is broken, rerun with --force to '
                 'rebuild it')
    log(f'mmcv {args.version} with ops is ready')


if __name__ == '__main__':
    main()
