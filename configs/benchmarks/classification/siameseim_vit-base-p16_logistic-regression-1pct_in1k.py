# ImageNet-1k "1%" evaluation of a SiameseIM ViT-B/16 (the paper's IN 1%
# column; not fine-tuning): frozen features = the cls token of the last
# block without a norm, evaluation transform, 1% of the training images per
# class; per-sample centering and L2 normalisation; multinomial logistic
# regression with an L2 penalty lambda = 0.1 / N, no intercept, at most 300
# epochs, tolerance 1e-3. Run with
#   python tools/benchmarks/classification/logistic_regression.py THIS_CONFIG BACKBONE.pth
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_pil_resize.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)
default_scope = 'mmsiam'

backbone = dict(
    type='mmsiam.StrictPretrainedViT',
    arch='b',
    img_size=224,
    patch_size=16,
    out_type='cls_token',
    final_norm=False,
    init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.'))

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        interpolation='bicubic',
        backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
# Both splits use the evaluation transform.
train_dataloader = dict(
    batch_size=128, dataset=dict(pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))

logistic_regression = dict(
    fraction=0.01,  # of the training images of each class
    lambda_scale=0.1,  # lambda = lambda_scale / N
    max_iter=300,
    tol=1e-3,
    seed=0)
