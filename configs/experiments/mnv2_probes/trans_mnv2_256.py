# Trans-MNv2 at 256x256 (the paper's size): MobileNetV2 layers 0..13 give a
# 16x16 grid, 64x64 heatmaps (stride 4, as at 192), the reference branch at
# R = 64. Only the sizes differ from ../trans_mnv2_300w2012_cpu.py.
_base_ = ['../trans_mnv2_300w2012_cpu.py']

codec = dict(
    type='LandmarkBoundaryHeatmap',
    input_size=(256, 256),
    heatmap_size=(64, 64),
    sigma=1.5,
    boundary_sigma=1.0,
    boundary_scheme=None,
    unbiased=True,
    blur_kernel_size=7,
    centroid_threshold=0.5)
ref_input_size = (64, 64)

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
train_dataloader = dict(
    dataset=dict(
        pipeline=train_pipeline, codec=codec, ref_input_size=ref_input_size))
val_dataloader = dict(
    dataset=dict(
        pipeline=val_pipeline, codec=codec, ref_input_size=ref_input_size))
test_dataloader = val_dataloader
model = dict(head=dict(ref_size=64, decoder=codec))
