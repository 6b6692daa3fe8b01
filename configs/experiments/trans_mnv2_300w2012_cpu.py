# Trans-MNv2: RHT-MNv2 without the reference branch (2 deconvolutions from
# F_G), the identical-budget baseline: same ImageNet start, data, seed,
# augmentation and schedule (40 epochs) as rht_mnv2_match_300w2012_cpu.py.
#   python tools/train.py configs/experiments/trans_mnv2_300w2012_cpu.py \
#       --work-dir work_dirs/mnv2/trans_mnv2 --resume
_base_ = ['./rht_mnv2_match_300w2012_cpu.py']

model = dict(head=dict(with_reference=False))
