# RHT-R-S: RHT-R (configs/rht_res50_300w.py) scaled down to train on a
# 2-core CPU in hours, on the 300-W faces of ../shared/data/300w_subset.
# Everything of the experiment is in this file (only mmpose's runtime
# defaults are inherited); its variants change a few keys:
#   trans_res18_s_300w_cpu.py      the identical-budget baseline (no
#                                  reference branch)
#   rht_res18_s_match_300w_cpu.py  + the correspondence loss
#   *_stage2.py                    20 more epochs from the 40-epoch weights
#   bundled/*.py                   the shipped models, as tools/test.py
#                                  evaluates them
# Smaller than RHT-R: 128x128 input, 64x64 heatmaps (1x / 2x / 4x grids
# 16 / 32 / 64); ResNet-18 stem + layer1 + layer2 (128 ch, stride 8) from
# random init; Trans-R encoder 128 ch, 3 layers, 4 heads; reference branch at
# R = 64 with Q / K / V at 128 / 64 / 32 channels. Same method, losses,
# augmentation and reference protocol (training: a random other training
# face; test: the most SIFT-similar training face).
#   python tools/train.py configs/experiments/rht_res18_s_300w_cpu.py
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['rht_mmpose'], allow_failed_imports=False)

# ---------------------------------------------------------------- data
data_root = '{{$RHT_DATA_ROOT:../shared/data}}/300w_subset'
cache_dir = 'work_dirs/rht_cache'  # .pts -> json and SIFT caches
train_folders = ['afw', 'helen/trainset']  # 1207 faces
test_folders = ['helen/testset']  # 330 faces

codec = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(128, 128),
    heatmap_size=(64, 64),
    sigma=1.5,
    boundary_sigma=1.0,
    boundary_scheme=None,  # from the keypoint count: 68 -> 13 boundaries
    unbiased=True,
    blur_kernel_size=7,
    # each landmark = centroid of its heatmap above half its maximum: these
    # small models spread semi-landmarks (nose ridge, jaw) into ridges whose
    # argmax several landmarks share
    centroid_threshold=0.5)
# references at the head's R = 64 (half the input, as 128 for 256)
ref_input_size = (64, 64)

# the RHT recipe: rotation +-45, scale +-20 %, shift +-10 %, grey 20 %,
# blur 30 %, occlusion 40 %, horizontal flip 50 %
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(
        type='RandomBBoxTransform',
        shift_factor=0.1,
        shift_prob=1.0,
        scale_factor=(0.8, 1.2),
        scale_prob=1.0,
        rotate_factor=45.0,
        rotate_prob=1.0),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='RandomGrayscale', prob=0.2),
    dict(type='RandomGaussianBlur', prob=0.3, sigma_range=(0.5, 2.0)),
    dict(type='RandomOcclusion', prob=0.4),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]

train_faces = dict(
    type='Face300WPtsDataset',
    data_root=data_root,
    pts_folders=train_folders,
    cache_dir=cache_dir)
test_faces = dict(
    type='Face300WPtsDataset',
    data_root=data_root,
    pts_folders=test_folders,
    cache_dir=cache_dir,
    test_mode=True)

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PairedReferenceDataset',
        dataset=train_faces,
        pipeline=train_pipeline,
        codec=codec,
        ref_mode='random',
        ref_input_size=ref_input_size,
        cache_dir=cache_dir))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type='PairedReferenceDataset',
        dataset=test_faces,
        ref_pool=train_faces,
        pipeline=val_pipeline,
        codec=codec,
        ref_mode='sift',
        ref_input_size=ref_input_size,
        cache_dir=cache_dir))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['inter_ocular', 'inter_pupil'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07])
test_evaluator = val_evaluator

# ---------------------------------------------------------------- model
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
    # flip test: un-flipped heatmaps of stride 2 sit 1 - 1/2 pixel left of
    # the true position (RHTHead.predict); MMPose's True would shift 1
    test_cfg=dict(
        flip_test=True, ref_mode='descriptor', num_refs=1,
        shift_heatmap=0.5))

# ---------------------------------------------------------------- schedule
max_epochs = 40
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=300, start_factor=0.01,
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         eta_min=1e-5, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=16)
# the last checkpoint is the result (nothing is picked on the test faces)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    logger=dict(type='LoggerHook', interval=20))
randomness = dict(seed=0)
