# Plain heatmap data on 300W (68 landmarks, no boundaries, no reference) for
# the backbone baselines of the paper's Table V: 64x64 heatmaps for a 256x256
# input (as mmpose's face configs), the RHT augmentation recipe, and the
# metrics of ./rht_300w.py.
# Codec: mmpose's UDPHeatmap (unbiased data processing), whose heatmap
# grid maps a horizontal flip onto itself, so the flip test is exact with
# no shift (mmpose's HeatmapHead can only shift by a whole pixel, and the
# exact shift for MSRA heatmaps at stride 4 is 1 - 1/4 = 0.75 px).
dataset_type = 'Face300WDataset'
data_mode = 'topdown'
data_root = 'data/300w/'

codec = dict(
    type='UDPHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)

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
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='RandomGrayscale', prob=0.2),
    dict(type='RandomGaussianBlur', prob=0.3, sigma_range=(0.5, 2.0)),
    dict(type='RandomOcclusion', prob=0.4),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='PackPoseInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/face_landmarks_300w_train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/face_landmarks_300w_valid.json',
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

test_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['inter_ocular', 'inter_pupil'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07],
    subset_file=dict(
        common=data_root + 'annotations/face_landmarks_300w_valid_common.json',
        challenging=data_root +
        'annotations/face_landmarks_300w_valid_challenge.json'))
val_evaluator = test_evaluator
