#!/usr/bin/env bash
# Usage: tools/benchmarks/classification/dist_train.sh CONFIG PRETRAIN GPUS [train.py args]
# A configs/benchmarks/classification/ config with its backbone from PRETRAIN.
exec "$(dirname "$0")/../dist_train_pretrained.sh" "$@"
