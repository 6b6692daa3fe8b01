# Table V baseline: one hourglass (mmpose's HourglassNet, "Hourglass-52",
# 64x64 output) + CPMHead, as mmpose's COCO-WholeBody face config, on 300W;
# trained from scratch (mmpose has no ImageNet hourglass).
_base_ = ['./res50_300w.py']

model = dict(
    backbone=dict(_delete_=True, type='HourglassNet', num_stacks=1),
    head=dict(
        _delete_=True,
        type='CPMHead',
        in_channels=256,
        out_channels=68,
        num_stages=1,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
