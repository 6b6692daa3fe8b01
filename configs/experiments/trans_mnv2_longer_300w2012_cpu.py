# Trans-MNv2, stage 7: 12 more epochs of stage 6
# (trans_mnv2_zerobased_300w2012_cpu.py, the shipped weights until stage 7), restarted at
# 2e-4 (stage 3's rate) with another seed (other augmentation draws and
# data order), everything else as stage 6. Does more of the same budget
# still pay once the targets are consistent? Stage 6's training loss was
# still falling at its end (heatmap 0.00327 -> 0.00315 over its 12
# epochs). Stage 6 is the control.
#   python tools/train.py \
#       configs/experiments/trans_mnv2_longer_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/trans_mnv2_longer
# Result (validation, 202 faces, refiner refitted; stage 6 in brackets):
# raw 0.0337 (0.0340), refined 0.03051 (0.03070). Shipped
# (checkpoints/trans_mnv2_300w.pth).
_base_ = ['./trans_mnv2_zerobased_300w2012_cpu.py']

load_from = 'work_dirs/mnv2/trans_mnv2_zerobased/epoch_12.pth'
randomness = dict(seed=1)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
