# RHT-R-S: RHT-R scaled down to train on a 2-core CPU in hours, for the
# identical-budget real-data comparison when no GPU is available
# (baseline: trans_res18_s_300w_subset_cpu.py). Same method, losses,
# augmentation and reference modes as rht_res50_300w_subset.py; smaller:
#   - input 128x128, heatmaps 64x64 (1x / 2x / 4x grids 16 / 32 / 64)
#   - ResNet-18 stem + layer1 + layer2 (128 ch, stride 8), random init
#   - Trans-R encoder 128 ch, 3 layers, 4 heads, FFN 512
#   - reference branch at R = 64, Q / K / V at 128 / 64 / 32 channels
#   python tools/train.py configs/rht_res18_s_300w_subset_cpu.py
_base_ = [
    'mmpose::_base_/default_runtime.py',
    './_base_/datasets/rht_300w_subset_128.py',
]

custom_imports = dict(imports=['rht_mmpose'], allow_failed_imports=False)

data_root = '{{$RHT_DATA_ROOT:../shared/data}}/300w_subset'

max_epochs = 40
base_lr = 1e-3
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=1e-4),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=300, start_factor=0.01,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-5, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    logger=dict(type='LoggerHook', interval=20))
randomness = dict(seed=0)

codec = {{_base_.codec}}

model = dict(
    type='RHTPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        init_cfg=None),
    neck=dict(
        type='TransREncoder',
        in_channels=128,
        embed_dims=128,
        num_layers=3,
        num_heads=4,
        feedforward_channels=512),
    head=dict(
        type='RHTHead',
        num_keypoints=68,
        num_boundaries=13,
        in_channels=128,
        in_scale=1,
        fg_channels=(128, 64, 32),
        ref_channels=(128, 64, 32),
        ref_size=64,
        trans_loss_weight=0.1,
        trans_loss_detach=True,
        decoder=codec),
    test_cfg=dict(flip_test=True, ref_mode='most_similar', num_refs=1))

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(data_root=data_root),
        ref_pool=dict(data_root=data_root)))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['inter_ocular', 'inter_pupil'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07])
test_evaluator = val_evaluator
