#!/usr/bin/env bash
# Usage: tools/benchmarks/mmdet/dist_train.sh CONFIG PRETRAIN GPUS [train.py args]
# Trains an mmdet benchmark config of configs/benchmarks/mmdet/ with its
# backbone initialised from PRETRAIN (a backbone.* checkpoint, see
# tools/model_converters/extract_backbone.py).
if [ $# -lt 3 ]; then
    echo "Usage: $0 CONFIG PRETRAIN GPUS [train.py args]" >&2
    exit 2
fi
if [ ! -f "$2" ]; then
    echo "error: PRETRAIN checkpoint $2 does not exist" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
exec "$ROOT/tools/dist_train.sh" "$1" "$3" \
    --cfg-options model.backbone.init_cfg.checkpoint="$2" "${@:4}"
