# kNN monitor on the built-in data: every `val_interval` epochs (and before
# training with ValidateAtStartHook) weighted kNN top-1/top-5 of frozen
# features of the MNIST5k val digits (queries) against the train digits
# (memory bank), at the 64-pixel size of the _demo views. `num_per_class`
# takes all 100 val / 400 train digits of each class; lower it for quicker
# checks. Each _demo config picks the feature and branch in val_cfg.
knn_pipeline = [
    dict(type='Resize', scale=64, interpolation='bicubic', backend='pillow'),
    dict(type='PackInputs'),
]
val_dataloader = dict(
    batch_size=250,
    # Workers that stay alive between evaluations: a third of the time of
    # resizing the 5,000 digits in the main process.
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ClassBalancedSubset',
        num_per_class=100,
        dataset=dict(type='MNIST5k', split='val', pipeline=knn_pipeline)))
val_cfg = dict(
    type='KNNValLoop',
    bank_dataloader=dict(
        val_dataloader,
        dataset=dict(
            type='ClassBalancedSubset',
            num_per_class=400,
            dataset=dict(
                type='MNIST5k', split='train', pipeline=knn_pipeline))),
    feature='cls',
    branch='online',
    # A linear probe on the same feature, trained on the labels of the
    # pretraining batches (SGD lr 0.01; weights unchanged by it) and scored
    # with the kNN: probe/top1 (OnlineLinearProbeHook).
    online_probe=dict())
# k 20, T 0.07: the MULAN / DINO monitor settings.
val_evaluator = dict(type='KNNAccuracy', k=20, temperature=0.07, topk=(1, 5))
