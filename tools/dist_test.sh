#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Environment: NNODES, NODE_RANK, MASTER_ADDR, PORT=29500, PYTHON.
if [ $# -lt 3 ]; then
    echo "Usage: $0 CONFIG CHECKPOINT GPUS [test.py args]" >&2
    exit 2
fi
exec "$(dirname "$0")/misc/dist_launch.sh" "$3" test.py "$1" "$2" "${@:4}"
