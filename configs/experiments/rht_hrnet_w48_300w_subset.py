# RHT-H on the real 300W subset (see rht_res50_300w_subset.py): HRNet-W48
# up to stage 3 -> TransHEncoder -> RHTHead with F_G entering at 2x, from
# random initialisation (no network here). With the model zoo, set
#   model.backbone.init_cfg=dict(type='Pretrained', checkpoint='https://download.openmmlab.com/mmpose/pretrain_models/hrnet_w48-8ef0771d.pth')
_base_ = ['./rht_res50_300w_subset.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNetStage3',
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
                num_channels=(48, 96)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(48, 96, 192))),
        init_cfg=None),
    neck=dict(type='TransHEncoder'),
    head=dict(in_channels=64, in_scale=2))
