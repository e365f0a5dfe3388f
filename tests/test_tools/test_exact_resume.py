"""Kill a training run with SIGKILL between checkpoints, resume it with
``--resume``: it ends bit-identical to the uninterrupted run (losses of every
resumed iteration, weights, target branch, optimizer, schedulers)."""
import pytest

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, TINY_DEMO_OPTIONS,
                     resume_after_kill)

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow


def test_siameseim_resumes_exactly(demo_run, tmp_path):
    out = resume_after_kill(DEMO_CONFIG, demo_run[0], tmp_path,
                            TINY_DEMO_OPTIONS)
    assert 'Epoch(train) [2][4/4]' in out
    # The killed process left no half-written file behind.
    assert not list((tmp_path / 'killed').rglob('*.partial'))


def test_conmim_resumes_exactly(conmim_run, tmp_path):
    resume_after_kill(CONMIM_DEMO_CONFIG, conmim_run[0], tmp_path,
                      TINY_DEMO_OPTIONS)
