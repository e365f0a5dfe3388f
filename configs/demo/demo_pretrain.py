# `make demo`: MULAN-MoCo v3 pretraining on the built-in MNIST5k digits, under
# 3 minutes on 2 CPU cores; of the `_demo` configs, the one whose kNN top-1
# rises most and ends highest (docs/small_scale.md). Everything is set in the
# inherited _demo config, which in turn inherits the paper config.
_base_ = '../mulan/mulan-mocov3_resnet18-w16_1xb64-coslr-3e_mnist5k_demo.py'
