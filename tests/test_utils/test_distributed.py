import socket

import pytest
import torch
import torch.distributed as dist
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.model import BaseModel

from mmsiam.models.layers import AnyDeviceSyncBatchNorm
from mmsiam.registry import MODEL_WRAPPERS
from mmsiam.utils import prepare_distributed_env, register_all_modules


class TwoNorms(BaseModel):
    """A model with a torch SyncBatchNorm and a plain BatchNorm."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.SyncBatchNorm(3),
                                          torch.nn.BatchNorm2d(3))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.layers(inputs)


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
    assert cfg.model_wrapper_cfg.type == \
        'mmsiam.AnyDeviceDistributedDataParallel'
    assert cfg.model_wrapper_cfg.sync_bn is False


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU fallback only')
def test_cpu_launch_keeps_sync_bn_over_gloo(monkeypatch):
    """The sync_bn key (torch's GPU-only SyncBatchNorm) goes to the
    wrapper, which synchronises every BatchNorm over gloo; its own torch
    SyncBatchNorm layers are converted too."""
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    cfg = Config(dict(sync_bn='torch'))
    try:
        prepare_distributed_env(cfg, 'pytorch')
        assert cfg.sync_bn is None
        wrapper_cfg = cfg.model_wrapper_cfg
        assert wrapper_cfg.type == 'mmsiam.AnyDeviceDistributedDataParallel'
        assert wrapper_cfg.sync_bn is True
        register_all_modules()
        model = TwoNorms()
        keys = model.state_dict().keys()
        with DefaultScope.overwrite_default_scope('mmsiam'):
            wrapped = MODEL_WRAPPERS.build(wrapper_cfg,
                                           default_args=dict(module=model))
        layers = wrapped.module.layers
        assert all(isinstance(m, AnyDeviceSyncBatchNorm) for m in layers)
        assert wrapped.module.state_dict().keys() == keys
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU fallback only')
def test_cpu_slurm_launch_explains_itself():
    with pytest.raises(RuntimeError, match='needs CUDA.*dist_train.sh'):
        prepare_distributed_env(Config(dict()), 'slurm')
