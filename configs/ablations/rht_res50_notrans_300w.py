# Table V, RHT row of the ResNet-50 backbone: RHT-R without its transformer
# encoder. F_G is ResNet-50's layer2 output (1/8 of the input: 32x32,
# 512 channels) fed straight to the RHT head (reference branch, STM, HTM,
# MSFFM); everything else is ../rht_res50_300w.py. Baseline row:
# ../baselines/res50_300w.py.
_base_ = ['../rht_res50_300w.py']

model = dict(neck=None, head=dict(in_channels=512, in_scale=1))
