# Table V, RHT row of the HRNet-W32 backbone: F_G is HRNet-W32's 1/4 branch
# (64x64, 32 channels; the backbone of ../baselines/hrnet_w32_300w.py,
# ImageNet weights) fed straight to the RHT head at the 2x scale, as
# RHT-H's encoder output; no transformer. Everything else is
# ../rht_res50_300w.py.
_base_ = ['../rht_res50_300w.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(32, 64)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(32, 64, 128)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(32, 64, 128, 256))),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w32-36af842e.pth')),
    neck=None,
    head=dict(in_channels=32, in_scale=2))
