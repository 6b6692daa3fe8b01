# RHT data on COFW (29 landmarks, COFW boundary layout)
# in mmpose's layout (data/cofw/: annotations/*.json, images/).
# 1345 train faces, 507 test faces.
# Training: a random other training face is the reference, redrawn at every
# access; test: the training face with the most SIFT matches (ref_pool = the
# training set), the paper's choice. The SIFT scores are computed once and
# cached in `cache_dir`.
dataset_type = 'COFWDataset'
data_mode = 'topdown'
data_root = 'data/cofw/'
cache_dir = 'work_dirs/rht_cache'

# K landmark + P boundary heatmaps at 128x128 for a 256x256 input
codec = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(256, 256),
    heatmap_size=(128, 128),
    sigma=1.5,
    boundary_sigma=1.0,
    boundary_scheme='cofw',
    unbiased=True,
    blur_kernel_size=7)

# RHT recipe (copied from rht_300w_subset.py): rotation +-45, scale +-20 %,
# shift +-10 %, grey 20 %, blur 30 %, occlusion 40 %, horizontal flip 50 %
# (the dataset's flip pairs).
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
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/cofw_train.json',
    data_prefix=dict(img='images/'))
test_faces = dict(
    type=dataset_type,
    data_root=data_root,
    data_mode=data_mode,
    ann_file='annotations/cofw_test.json',
    data_prefix=dict(img='images/'),
    test_mode=True)

# batch 8 per GPU (paper: 8 GPUs)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PairedReferenceDataset',
        dataset=train_faces,
        pipeline=train_pipeline,
        codec=codec,
        ref_mode='random',
        cache_dir=cache_dir))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type='PairedReferenceDataset',
        dataset=test_faces,
        pipeline=val_pipeline,
        codec=codec,
        ref_mode='most_similar',
        ref_pool=train_faces,
        cache_dir=cache_dir))
test_dataloader = val_dataloader

# COFW: NME_box (sqrt(w * h) of the landmarks' box) first, so FR and AUC
# use it, then NME_io (8 / 9); FR@0.1, AUC@0.1, AUC@0.07 (the paper's AUC^7).
val_evaluator = dict(
    type='FaceNMEMetric',
    norm_mode=['box', 'inter_ocular'],
    fr_threshold=0.1,
    auc_thresholds=[0.1, 0.07])
test_evaluator = val_evaluator
