# RHT-R trained from scratch on the real 300W subset in ../shared/data
# (AFW + HELEN train, 1207 faces), tested on HELEN test (330 faces).
# No ImageNet weights here (no network): the backbone starts from random
# init; on a machine with the model zoo set
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')
_base_ = [
    'mmpose::_base_/default_runtime.py',
    './_base_/rht_300w_subset.py',
]

custom_imports = dict(imports=['rht_mmpose'], allow_failed_imports=False)

data_root = '{{$RHT_DATA_ROOT:../shared/data}}/300w_subset'

# runtime: Adam with warm-up, then cosine to 1e-5 (paper: 1e-4 -> 1e-5
# cosine over 150 epochs with ImageNet weights; from scratch on 1207 faces a
# higher peak rate trains faster)
max_epochs = 60
base_lr = 5e-4
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
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
    checkpoint=dict(
        type='CheckpointHook', interval=5, max_keep_ckpts=2,
        save_best='NME_io', rule='less'),
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
        depth=50,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(1, ),
        init_cfg=None),
    neck=dict(type='TransREncoder'),
    head=dict(
        type='RHTHead',
        num_keypoints=68,
        num_boundaries=13,
        in_channels=256,
        in_scale=1,
        trans_loss_weight=0.1,
        trans_loss_detach=True,
        decoder=codec),
    test_cfg=dict(flip_test=True, ref_mode='descriptor', num_refs=1))

train_dataloader = dict(
    batch_size=16,
    dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(
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
