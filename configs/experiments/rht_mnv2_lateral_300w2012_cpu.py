# RHT-MNv2 with lateral features: stage 5 (rht_mnv2_fixcrop_300w2012_cpu.py:
# same start, crops, schedule; its control) with MobileNetV2's stride-8
# (layer 6, 32 ch) and stride-4 (layer 3, 24 ch) outputs added after the
# head's two deconvolutions through 1x1 convs (MSFFMNeck
# lateral_channels): detail that the 12x12 stride-16 grid lacks. The new
# convs start near zero (the head's Normal(0.001) init), so training
# starts from stage 4's function, and learn at 10x the rate (at 1x, the
# first probe of the Trans arm, they stayed near zero: mean |w| 0.0019
# after 8 epochs, training loss as the control's).
#   trans_mnv2_lateral_300w2012_cpu.py   the same for the baseline
#   python tools/train.py configs/experiments/rht_mnv2_lateral_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/rht_mnv2_lateral
# Result, Trans arm (validation as stage 5; its control in brackets): raw
# 0.0369 (0.0370), refined 0.03104 (0.03114); at 1x the rate 0.0369 /
# 0.03106; training losses equal to the control's to 3 digits in every
# epoch. Too small to pay for the RHT arm's 40 minutes: it was stopped in
# its third epoch.
_base_ = ['./rht_mnv2_fixcrop_300w2012_cpu.py']

model = dict(
    # outputs (layer 3: 24 ch, stride 4; layer 6: 32 ch, 8; layer 13: 96, 16)
    backbone=dict(out_indices=(3, 6, 13)),
    # passes stride 8 then stride 4 ahead of F_G
    neck=dict(lateral_indices=(1, 0)),
    head=dict(lateral_channels=(32, 24)))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.5),
        'head.neck.laterals': dict(lr_mult=10.0)}))
