# Table VII: the most correlated reference (the paper config's SIFT choice)
# shown at low resolution: its 32x32 version (bicubic down, bicubic back
# up to the reference size R = 128, LowResolution). The reference heatmaps
# are the full-resolution ones. Evaluation only, with the checkpoint of
# ../rht_hrnet_w48_300w.py: python tools/test.py THIS_CONFIG CHECKPOINT
_base_ = ['../rht_hrnet_w48_300w.py']

ref_size = (128, 128)
ref_codec = dict(_base_.codec, input_size=ref_size)
ref_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=ref_size),
    dict(type='LowResolution', size=32),
    dict(type='GenerateTarget', encoder=ref_codec),
]
val_dataloader = dict(dataset=dict(ref_pipeline=ref_pipeline))
test_dataloader = val_dataloader
