# Runtime shared by every mmsiam pretraining config.
default_scope = 'mmsiam'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    # Iteration timing: the logger prints time/iter, data time and the ETA.
    timer=dict(type='IterTimerHook'),
    # Source images per second over all processes, as `imgs_per_sec`.
    throughput=dict(type='ThroughputHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keep the newest three epoch checkpoints (plus `last_checkpoint`).
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Randomness of each iteration from (seed, iteration): exact resume.
    iter_seed=dict(type='IterSeedHook'),
    # resume / load_from must fit the model (mmengine only warns).
    strict_load=dict(type='StrictLoadCheckpointHook'),
    # The attention kernels each process measured, kept in checkpoints and
    # taken back on resume (exact resume with measured kernels).
    kernel_choice=dict(type='KernelChoiceHook'),
    # Skip steps with a non-finite loss or gradient; stop after 5 in a row.
    non_finite_guard=dict(type='NonFiniteGuardHook', max_skips=5),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # NCCL on GPUs; tools/train.py and tools/test.py switch to gloo (CPU
    # processes) on a machine without CUDA.
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(window_size=10)
# scalars.json for tools/analysis_tools/plot_curves.py; add
# dict(type='TensorboardVisBackend') (pip install tensorboard) for TensorBoard.
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'

load_from = None
resume = False

# Different seeds per rank so that workers draw different augmentations.
randomness = dict(seed=0, diff_rank_seed=True)
