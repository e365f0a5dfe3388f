# ConMIM ViT-L/16, 1600 epochs on ImageNet-1k (the published command: batch
# 2048 = 32 x 64, lr 7.5e-4, layer scale 1e-5), sharded with FSDP.
#
# FSDP through mmengine's FlexibleRunner (runner_type below): parameters,
# gradients and AdamW state sharded over the processes; student and EMA
# teacher shard alike, so the EMA steps local shards after each optimizer
# step. Launch:
#   tools/dist_train.sh THIS_CONFIG 8     (one node of 8 GPUs; on 4 nodes
#       also NNODES=4 NODE_RANK=0..3 MASTER_ADDR=<node 0>)
#   GPUS=32 tools/slurm_train.sh PARTITION JOB THIS_CONFIG WORK_DIR
# --strategy ddp trains it without sharding. docs/distributed.md has the
# per-process memory of both.
_base_ = 'conmim_vit-large-p16_32xb64-amp-coslr-1600e_in1k.py'

runner_type = 'FlexibleRunner'
# Full-state checkpoints: one file per epoch in the layout of a DDP
# checkpoint (extract_backbone.py, the benchmarks and --resume read it).
strategy = dict(
    type='mmsiam.MomentumTargetFSDPStrategy', state_dict_cfg='full')
