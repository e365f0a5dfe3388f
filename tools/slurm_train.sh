#!/usr/bin/env bash
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# Environment: GPUS=8, GPUS_PER_NODE=8, CPUS_PER_TASK=5, SRUN_ARGS, PYTHON.
if [ $# -lt 4 ]; then
    echo "Usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]" >&2
    exit 2
fi
exec "$(dirname "$0")/misc/slurm_launch.sh" "$1" "$2" train.py "$3" \
    --work-dir="$4" "${@:5}"
