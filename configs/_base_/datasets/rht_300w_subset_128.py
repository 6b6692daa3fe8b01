# The real 300W subset (rht_300w_subset.py) at a 128x128 input with 64x64
# heatmaps, for the CPU-sized RHT-R-S. Only the codec sizes differ from
# rht_face_common.py; old-style configs cannot swap the codec inside the
# base pipelines, so the two pipelines are restated with it.
_base_ = ['./rht_300w_subset.py']

codec = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(128, 128),
    heatmap_size=(64, 64),
    sigma=1.5,
    boundary_sigma=1.0,
    boundary_scheme=None,
    unbiased=True,
    blur_kernel_size=7)

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

# references at the head's R = 64 (half the input, as 128 for 256)
ref_input_size = (64, 64)
train_dataloader = dict(
    dataset=dict(
        pipeline=train_pipeline, codec=codec,
        ref_input_size=ref_input_size))
val_dataloader = dict(
    dataset=dict(
        pipeline=val_pipeline, codec=codec, ref_input_size=ref_input_size))
test_dataloader = val_dataloader
