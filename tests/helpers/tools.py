"""Running the tools as a user runs them: by path, as subprocesses, killed
mid-run like a dying node."""
import importlib.util
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest

from .paths import REPO, TINY_DEMO_OPTIONS


def load_tool(relpath):
    """Import a script under tools/ by path, as a module, with its folder on
    ``sys.path`` as when Python runs it (its helper modules import)."""
    path = osp.join(REPO, 'tools', relpath)
    folder = osp.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = 'tool_' + relpath.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_env(all_threads=False):
    """The environment of a tool run: this checkout on the path, and one
    OpenMP thread unless ``all_threads`` (as a user's run)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['PYTHON'] = sys.executable
    if all_threads:
        env.pop('OMP_NUM_THREADS', None)
    else:
        env.setdefault('OMP_NUM_THREADS', '1')
    return env


# Node ids of the collected tests marked ``slow`` (filled by conftest.py).
SLOW_TESTS = set()


def require_slow_mark():
    """Fail the current test unless it is marked ``slow``: end-to-end tool
    runs belong to ``make test-all``, so that ``make test`` stays fast."""
    current = os.environ.get('PYTEST_CURRENT_TEST')
    if current is None:
        return
    nodeid = current.rsplit(' (', 1)[0]
    if nodeid not in SLOW_TESTS:
        pytest.fail(f'{nodeid} runs a tool in a subprocess; mark it '
                    '@pytest.mark.slow (make test-all runs it)')


def run_tool(args, cwd=REPO, timeout=600, check=True, all_threads=False):
    """Run a command-line tool in a subprocess (only in ``slow`` tests); on
    failure show its output."""
    require_slow_mark()
    if args[0].endswith('.py'):
        args = [sys.executable] + list(args)
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=tool_env(all_threads),
        timeout=timeout,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(map(str, args))} exited with '
                    f'{proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc


def train_tiny(config, tmp_path_factory, name):
    """``config`` trained for 2 tiny epochs through tools/train.py;
    returns the work dir and the output."""
    work_dir = tmp_path_factory.mktemp(name) / 'work_dir'
    proc = run_tool([
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir,
        '--cfg-options'
    ] + TINY_DEMO_OPTIONS)
    return work_dir, proc.stdout


def export_backbone(work_dir, tmp_path_factory, name):
    """The default branch of ``work_dir/epoch_2.pth`` as extract_backbone.py
    exports it."""
    out = tmp_path_factory.mktemp('export') / f'{name}_backbone.pth'
    run_tool([
        osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py'),
        work_dir / 'epoch_2.pth', out
    ])
    return out


def process_tree(pid):
    """``pid`` and all its descendants (from /proc), parents first."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop(0))
        todo += children.get(tree[-1], [])
    return tree


def living(pids):
    """Those of ``pids`` that still run (zombies count as ended)."""
    alive = []
    for pid in pids:
        try:
            with open(f'/proc/{pid}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != 'Z':
            alive.append(pid)
    return alive


def kill_tree(pid):
    """SIGSTOP, then SIGKILL ``pid`` and every descendant (a launcher's
    workers may run in sessions of their own), as a dying node would."""
    def send(p, sig):
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass

    stopped = []
    while True:  # until no process forks a new one
        new = [p for p in process_tree(pid) if p not in stopped]
        if not new:
            break
        for p in new:
            send(p, signal.SIGSTOP)
        stopped += new
    for p in stopped:
        send(p, signal.SIGKILL)


def kill_during(args, marker, timeout=600, kill=kill_tree):
    """Run a tool (in a session and process group of its own) and
    ``kill(pid)`` it as soon as its output shows ``marker`` (default: SIGKILL
    to it and all its processes); returns the output so far."""
    require_slow_mark()
    if args[0].endswith('.py'):
        args = [sys.executable] + list(args)
    proc = subprocess.Popen(
        [str(a) for a in args], cwd=REPO, env=tool_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if marker in line:
                kill(proc.pid)
                break
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
            proc.wait()
    out = ''.join(lines)
    if marker not in out:
        pytest.fail(f'{" ".join(map(str, args))} ended before "{marker}":'
                    f'\n{out[-6000:]}')
    return out
