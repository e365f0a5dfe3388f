# LVIS v1 Mask R-CNN with the ViTDet ViT-B/16 of the COCO config (LSJ 1024,
# 100-epoch schedule, layer decay 0.7) on mmdet's LVIS v1 settings: 1203
# classes, repeat-factor sampling (oversample 1e-3), up to 300 detections
# with score > 1e-4, federated LVISMetric (bbox, segm; APr / APc / APf).
#   tools/benchmarks/mmdet/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = './mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py'

data_root = 'data/lvis_v1/'
model = dict(
    roi_head=dict(
        bbox_head=dict(num_classes=1203), mask_head=dict(num_classes=1203)),
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClassBalancedDataset',
        oversample_thr=1e-3,
        dataset=dict(
            type='LVISV1Dataset',
            data_root=data_root,
            ann_file='annotations/lvis_v1_train.json',
            data_prefix=dict(img=''),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root=data_root,
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='LVISMetric',
    ann_file=data_root + 'annotations/lvis_v1_val.json',
    metric=['bbox', 'segm'])
test_evaluator = val_evaluator
