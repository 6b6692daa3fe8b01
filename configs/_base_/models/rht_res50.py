# RHT-R: ResNet-50 stem + layer1 + layer2 (1/8, 512 ch) -> TransREncoder
# (4 layers, 8 heads, FFN 1024, 256 ch, 32x32) -> RHTHead (reference branch,
# STM + HTM, MSFFM at 1x / 2x / 4x). The dataset configs add the keypoint
# count, the boundary count and the codec:
#   model = dict(head=dict(num_keypoints=K, num_boundaries=P, decoder=codec))
# Backbone from torchvision's ImageNet ResNet-50 (the URL of mmpose's
# ResNet configs); layer3 / layer4 / fc of that checkpoint are not used.
model = dict(
    type='RHTPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='TransREncoder'),
    head=dict(
        type='RHTHead',
        in_channels=256,
        in_scale=1,
        trans_loss_weight=0.1,
        trans_loss_detach=True),
    # flip test with the exact shift for the heatmap stride: the paper's
    # heatmaps are 128x128 for the 256x256 input, stride s = 2, and the
    # flipped-back heatmap sits 1 - 1/s = 0.5 px left of the true one
    # (tests/test_configs/test_paper_protocols.py decodes a perfect heatmap)
    test_cfg=dict(
        flip_test=True,
        shift_heatmap=0.5,
        ref_mode='descriptor',
        num_refs=1))
