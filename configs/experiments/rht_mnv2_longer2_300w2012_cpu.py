# RHT-MNv2, stage 8: 12 more epochs of stage 7
# (rht_mnv2_longer_300w2012_cpu.py, the shipped weights), restarted at
# 2e-4 with another seed, everything else as stage 7. Stage 7's cycle
# gave 0.6 % on the validation faces: does another still pay? Stage 7 is
# the control.
#   python tools/train.py \
#       configs/experiments/rht_mnv2_longer2_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/rht_mnv2_longer2
# Result (validation, 202 faces, refiner refitted; stage 7 in brackets):
# raw 0.0325 (0.0328), refined 0.03019 (0.03028; paired -0.00009 +-
# 0.00008), 1 reference by descriptor 0.03029 (0.03039). Within noise:
# not shipped (the cycle before gave 0.6 %, this one 0.3 %).
_base_ = ['./rht_mnv2_longer_300w2012_cpu.py']

load_from = 'work_dirs/mnv2/rht_mnv2_longer/epoch_12.pth'
randomness = dict(seed=2)
