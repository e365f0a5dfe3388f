import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from mmsiam.utils import prepare_distributed_env


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_single_process_launch_is_untouched():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    prepare_distributed_env(cfg, 'none')
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU fallback only')
def test_cpu_pytorch_launch_uses_gloo(monkeypatch):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    try:
        prepare_distributed_env(cfg, 'pytorch')
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU fallback only')
def test_cpu_slurm_launch_explains_itself():
    with pytest.raises(RuntimeError, match='needs CUDA.*dist_train.sh'):
        prepare_distributed_env(Config(dict()), 'slurm')
