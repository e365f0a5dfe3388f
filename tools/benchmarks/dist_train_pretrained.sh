#!/usr/bin/env bash
# Shared by tools/benchmarks/{mmdet,mmseg,classification}/dist_train.sh:
#   dist_train_pretrained.sh CONFIG PRETRAIN GPUS [train.py args]
# trains a benchmark config with its backbone initialised from PRETRAIN (a
# backbone.* checkpoint from tools/model_converters/extract_backbone.py) by
# setting model.backbone.init_cfg.checkpoint. More --cfg-options may follow.
if [ $# -lt 3 ]; then
    echo "Usage: $0 CONFIG PRETRAIN GPUS [train.py args]" >&2
    exit 2
fi
if [ ! -f "$2" ]; then
    echo "error: PRETRAIN checkpoint $2 does not exist" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
exec "$ROOT/tools/dist_train.sh" "$1" "$3" \
    --cfg-options model.backbone.init_cfg.checkpoint="$2" "${@:4}"
