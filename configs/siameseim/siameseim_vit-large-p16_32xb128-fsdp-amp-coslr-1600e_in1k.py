# SiameseIM ViT-L/16, 1600 epochs on ImageNet-1k, sharded with FSDP. The
# official code publishes no ViT-L recipe: this is the ViT-B recipe (batch
# 4096 = 32 x 128, lr 1e-3, 40 warm-up epochs, EMA 0.995 -> 1, SyncBN over
# tokens) with the ViT-L encoder (1024-d, 24 blocks, 16 heads) and a 1024-d
# projector and predictor.
#
# FSDP through mmengine's FlexibleRunner (runner_type below): parameters,
# gradients and AdamW state sharded over the processes; online encoder and
# EMA target shard alike, so the EMA steps local shards. Launch:
#   tools/dist_train.sh THIS_CONFIG 8     (one node of 8 GPUs; on 4 nodes
#       also NNODES=4 NODE_RANK=0..3 MASTER_ADDR=<node 0>)
#   GPUS=32 tools/slurm_train.sh PARTITION JOB THIS_CONFIG WORK_DIR
# --strategy ddp trains it without sharding. docs/distributed.md has the
# per-process memory of both.
_base_ = 'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py'

embed_dims = 1024
model = dict(
    backbone=dict(arch='l'),
    neck=dict(in_channels=embed_dims, embed_dims=embed_dims),
    head=dict(embed_dims=embed_dims))

runner_type = 'FlexibleRunner'
# Full-state checkpoints: one file per epoch in the layout of a DDP
# checkpoint (extract_backbone.py, the benchmarks and --resume read it).
strategy = dict(
    type='mmsiam.MomentumTargetFSDPStrategy', state_dict_cfg='full')
