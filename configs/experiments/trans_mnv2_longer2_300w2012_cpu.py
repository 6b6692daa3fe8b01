# Trans-MNv2, stage 8: 12 more epochs of stage 7
# (trans_mnv2_longer_300w2012_cpu.py, the shipped weights), restarted at
# 2e-4 with another seed, everything else as stage 7. Stage 7's cycle
# gave 0.6 % on the validation faces: does another still pay? Stage 7 is
# the control.
#   python tools/train.py \
#       configs/experiments/trans_mnv2_longer2_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/trans_mnv2_longer2
# Result (validation, 202 faces, refiner refitted; stage 7 in brackets):
# raw 0.0334 (0.0337), refined 0.03045 (0.03051; paired -0.00006 +-
# 0.00007). Within noise: not shipped.
_base_ = ['./trans_mnv2_longer_300w2012_cpu.py']

load_from = 'work_dirs/mnv2/trans_mnv2_longer/epoch_12.pth'
randomness = dict(seed=2)
