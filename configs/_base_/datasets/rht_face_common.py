# What the RHT data configs of every benchmark share: the codec, the
# paper's augmentation, and the paired-reference wrappers. A benchmark's
# base config (rht_300w.py, rht_wflw.py, rht_cofw.py, rht_aflw.py,
# rht_300w_subset.py) inherits this and names only its faces and metrics:
#   train_dataloader = dict(dataset=dict(dataset=train_faces))
#   val_dataloader = dict(dataset=dict(dataset=test_faces,
#                                      ref_pool=train_faces))
# Training: a random other training face is the reference, redrawn at every
# access; test: the training face with the most SIFT matches (ref_pool = the
# training set), the paper's choice. The SIFT scores are computed once and
# cached in `cache_dir`.
data_mode = 'topdown'
cache_dir = 'work_dirs/rht_cache'

# K landmark + P boundary heatmaps at 128x128 for a 256x256 input. The
# boundary layout follows the keypoint count (68: 300w, 98: wflw, 29: cofw,
# 19: aflw; see rht_mmpose/codecs/face_schemes.py), so one codec serves
# every benchmark (old-style configs cannot change a codec that a base
# pipeline already holds).
codec = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(256, 256),
    heatmap_size=(128, 128),
    sigma=1.5,
    boundary_sigma=1.0,
    boundary_scheme=None,
    unbiased=True,
    blur_kernel_size=7)

# RHT recipe: rotation +-45, scale +-20 %, shift +-10 %, grey 20 %,
# blur 30 %, occlusion 40 %, horizontal flip 50 % (the dataset's flip pairs)
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

# batch 8 per GPU: the decision of ../rht_runtime.py (batch_per_gpu, with
# the override for the other reading of the paper)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PairedReferenceDataset',
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
        pipeline=val_pipeline,
        codec=codec,
        ref_mode='sift',
        cache_dir=cache_dir))
test_dataloader = val_dataloader
