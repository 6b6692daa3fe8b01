# RHT-H: RHT-R with HRNet-W48 up to stage 3 (its 1/4 branch, 48 ch) ->
# TransHEncoder (4 layers, 1 head, FFN 128, 64 ch, 64x64) -> RHTHead with
# F_G entering at 2x. Backbone from mmpose's ImageNet HRNet-W48; the
# checkpoint's transition3 / stage4 / head are not used.
_base_ = ['./rht_res50.py']

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
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmpose/'
            'pretrain_models/hrnet_w48-8ef0771d.pth')),
    neck=dict(type='TransHEncoder'),
    head=dict(in_channels=64, in_scale=2))
