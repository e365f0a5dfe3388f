#!/usr/bin/env bash
# Shared by tools/slurm_train.sh and tools/slurm_test.sh:
#   slurm_launch.sh PARTITION JOB_NAME SCRIPT [SCRIPT args]
# runs tools/SCRIPT under srun with --launcher=slurm.
# Environment: GPUS=8, GPUS_PER_NODE=8, CPUS_PER_TASK=5, SRUN_ARGS, PYTHON.
set -x
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHONPATH="$ROOT":$PYTHONPATH \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    "${PYTHON:-python}" -u "$ROOT/tools/$SCRIPT" "${@:4}" --launcher=slurm
