# RHT data on the shared real 300W subset (see ../shared/data/README.md):
# train = afw + helen/trainset (1207 faces), test = helen/testset (330).
# The .pts folders are converted on the fly into a json cached in
# `cache_dir` (Face300WPtsDataset), so a clean clone needs no data step.
# Children reuse `codec` (head) and may override any dataloader key.
data_root = '../shared/data/300w_subset'
cache_dir = 'work_dirs/rht_cache'
train_folders = ['afw', 'helen/trainset']
test_folders = ['helen/testset']

# 68 landmark + 13 boundary heatmaps at 128x128 for a 256x256 input
codec = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(256, 256),
    heatmap_size=(128, 128),
    sigma=1.5,
    boundary_sigma=1.0,
    boundary_scheme='300w',
    unbiased=True,
    blur_kernel_size=7)

# RHT recipe: rotation +-45, scale +-20 %, shift +-10 %, grey 20 %,
# blur 30 %, occlusion 40 %, horizontal flip 50 % (300W flip pairs).
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
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PairedReferenceDataset',
        dataset=train_faces,
        pipeline=train_pipeline,
        codec=codec,
        ref_mode='random',
        cache_dir=cache_dir))
# test: the most SIFT-similar training face is the reference (paper)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
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
