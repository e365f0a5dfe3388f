# Few-label classification on the built-in data, for the demo-scale
# fine-tuning and linear-probe configs of configs/benchmarks/classification:
# 10 labelled MNIST5k train digits of every class (100 labels;
# ClassBalancedSubset, the same digits whatever the run's seed) and all
# 1,000 val digits, at the 64 pixels of the _demo views, in the pipelines of
# the ImageNet benchmarks (mmpretrain's MAE / BEiT fine-tuning: crop, flip,
# RandAugment, random erasing; linear probes: crop and flip; evaluation: the
# digits resized as the kNN monitor sees them). A config inherits its paper
# benchmark config and this file and replaces the ImageNet loaders:
#   train_dataloader = {{_base_.few_label_finetune_loader}}
#   val_dataloader = {{_base_.few_label_val_loader}}
#   test_dataloader = {{_base_.few_label_test_loader}}
# Change the number of labels with
# --cfg-options train_dataloader.dataset.num_per_class=N.
image_size = 64
few_label_finetune_pipeline = [
    dict(
        type='RandomResizedCrop',
        scale=image_size,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=[103.53, 116.28, 123.675],
        fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
few_label_linear_pipeline = [
    dict(type='RandomResizedCrop', scale=image_size, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
few_label_val_pipeline = [
    dict(
        type='Resize',
        scale=image_size,
        interpolation='bicubic',
        backend='pillow'),
    dict(type='PackInputs'),
]


def _loader(batch_size, dataset):
    return dict(
        batch_size=batch_size,
        num_workers=2,
        persistent_workers=True,
        # replaces the ImageNet dataset of the paper config
        dataset=dict(_delete_=True, **dataset))


def _train_set(pipeline):
    return dict(
        type='mmsiam.ClassBalancedSubset',
        num_per_class=10,
        dataset=dict(type='mmsiam.MNIST5k', split='train', pipeline=pipeline))


few_label_finetune_loader = _loader(
    25, _train_set(few_label_finetune_pipeline))
few_label_linear_loader = _loader(25, _train_set(few_label_linear_pipeline))
few_label_val_loader = _loader(
    250,
    dict(type='mmsiam.MNIST5k', split='val', pipeline=few_label_val_pipeline))
# the same, its own dict: each loader's _delete_ is used up by its merge
few_label_test_loader = _loader(
    250,
    dict(type='mmsiam.MNIST5k', split='val', pipeline=few_label_val_pipeline))
