# kNN monitor on ImageNet-1k, off in the paper configs (each lists this file
# commented out in its _base_). Uncomment it there to follow weighted kNN
# top-1/top-5 of the frozen features every `train_cfg.val_interval` epochs
# (1 by default: set e.g. train_cfg = dict(val_interval=10) too).
# The memory bank is a class-balanced subset of the train split and the
# queries a subset of val: `num_per_class` sets the subsets' size (100 and
# 10 per class: 100k + 10k images, a few minutes per evaluation on 8 GPUs;
# the bank's features are held on every GPU, 100k x 768 floats = 0.3 GB).
# An unreadable image is skipped with a warning naming it (another image of
# the split takes its place), as in the training pipelines.
knn_pipeline = [
    dict(type='LoadImageOrSkip'),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        interpolation='bicubic',
        backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ClassBalancedSubset',
        num_per_class=10,
        dataset=dict(
            type='ImageNet',
            data_root='data/imagenet/',
            split='val',
            pipeline=knn_pipeline)))
val_cfg = dict(
    type='KNNValLoop',
    bank_dataloader=dict(
        val_dataloader,
        dataset=dict(
            type='ClassBalancedSubset',
            num_per_class=100,
            dataset=dict(
                type='ImageNet',
                data_root='data/imagenet/',
                split='train',
                pipeline=knn_pipeline))),
    # ViTs: 'cls'; ResNets: 'avg'. 'target' for the momentum encoder.
    feature='cls',
    branch='online',
    # The raw-pixel reference (inputs pooled to 32 x 32, 3,072 values per
    # image) costs one more pass over both subsets at the first evaluation.
    raw_pixel_size=32)
val_evaluator = dict(type='KNNAccuracy', k=20, temperature=0.07, topk=(1, 5))
