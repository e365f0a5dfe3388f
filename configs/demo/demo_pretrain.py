# `make demo`: SiameseIM pretraining on the built-in MNIST5k digits, a few
# minutes on 2 CPU cores. Everything is set in the inherited _demo config,
# which in turn inherits the paper config.
_base_ = '../siameseim/siameseim_vit-tiny-p8_1xb64-amp-coslr-8e_mnist5k_demo.py'
