# Table V baseline: ResNet-50 + mmpose's HeatmapHead (SimpleBaseline, three
# deconvolutions to 64x64) on 300W, with RHT's schedule and augmentation.
_base_ = [
    '../_base_/rht_runtime.py',
    '../_base_/datasets/heatmap_300w.py',
]

codec = {{_base_.codec}}

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    head=dict(
        type='HeatmapHead',
        in_channels=2048,
        out_channels=68,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    # UDP heatmaps: the flipped-back heatmap needs no shift (heatmap_300w.py)
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))
