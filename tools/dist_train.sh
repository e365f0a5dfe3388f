#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py args]
# One process per GPU (per CPU process over gloo on a machine without CUDA).
# Environment: NNODES, NODE_RANK, MASTER_ADDR, PORT=29500, PYTHON.
if [ $# -lt 2 ]; then
    echo "Usage: $0 CONFIG GPUS [train.py args]" >&2
    exit 2
fi
exec "$(dirname "$0")/misc/dist_launch.sh" "$2" train.py "$1" "${@:3}"
