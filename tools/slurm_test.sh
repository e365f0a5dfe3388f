#!/usr/bin/env bash
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# Environment: GPUS=8, GPUS_PER_NODE=8, CPUS_PER_TASK=5, SRUN_ARGS, PYTHON.
if [ $# -lt 4 ]; then
    echo "Usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]" >&2
    exit 2
fi
exec "$(dirname "$0")/misc/slurm_launch.sh" "$1" "$2" test.py "$3" "$4" \
    "${@:5}"
