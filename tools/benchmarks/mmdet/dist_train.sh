#!/usr/bin/env bash
# Usage: tools/benchmarks/mmdet/dist_train.sh CONFIG PRETRAIN GPUS [train.py args]
# A configs/benchmarks/mmdet/ config with its backbone from PRETRAIN.
exec "$(dirname "$0")/../dist_train_pretrained.sh" "$@"
