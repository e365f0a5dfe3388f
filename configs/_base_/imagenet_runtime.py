# The runtime of multi-GPU ImageNet pretraining runs: DDP without unused
# parameters, a log line every 100 iterations, a checkpoint every 10 epochs
# (the newest three kept).
_base_ = 'default_runtime.py'

model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
