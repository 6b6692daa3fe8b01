# Table V, RHT row of the one-hourglass backbone: F_G is the output of
# mmpose's HourglassNet with one stack (64x64, 256 channels; the backbone of
# ../baselines/hourglass1_300w.py, from scratch) fed to the RHT head at the
# 2x scale; no transformer. Everything else is ../rht_res50_300w.py.
_base_ = ['../rht_res50_300w.py']

model = dict(
    backbone=dict(_delete_=True, type='HourglassNet', num_stacks=1),
    neck=None,
    head=dict(in_channels=256, in_scale=2))
