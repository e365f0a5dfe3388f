#!/usr/bin/env bash
# Shared by tools/dist_train.sh and tools/dist_test.sh:
#   dist_launch.sh NPROC SCRIPT [SCRIPT args]
# starts NPROC processes of tools/SCRIPT with torchrun and --launcher pytorch.
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (as in OpenMMLab);
# PYTHON picks the interpreter (default: python on PATH).
set -e
NPROC=$1
SCRIPT=$2
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHONPATH="$ROOT":$PYTHONPATH \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
