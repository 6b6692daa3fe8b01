# Trans-R-S: RHT-R-S without the reference branch (2 deconvolutions from
# F_G), the identical-budget baseline: same data, seed, augmentation and
# schedule as rht_res18_s_300w_cpu.py.
#   python tools/train.py configs/experiments/trans_res18_s_300w_cpu.py
_base_ = ['./rht_res18_s_300w_cpu.py']

model = dict(head=dict(with_reference=False))
