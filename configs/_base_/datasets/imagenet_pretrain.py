# ImageNet-1k train split for pretraining (labels unused). Layout:
#   data/imagenet/train/n01440764/*.JPEG ... (mmpretrain's ImageNet dataset;
#   meta/train.txt is used when present). Method configs set the pipeline
# inside the SeededDataset wrapper:
#   train_pipeline = [dict(type='LoadImageOrSkip'), <views>, <packing>]
#   train_dataloader = dict(dataset=dict(dataset=dict(pipeline=...)))
# LoadImageOrSkip skips unreadable / truncated images with a warning naming
# them; more than max_skipped=100 in one data-loader worker stop the run.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    # Each sample's augmentations come from a seed of (run seed, epoch,
    # index), so a resumed run sees the same views as an uninterrupted one.
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SeededDataset',
        dataset=dict(type=dataset_type, data_root=data_root, split='train')))

