# Trans-MNv2, stage 3: the baseline arm of rht_mnv2_coord_300w2012_cpu.py
# (same stage, from the shipped baseline's weights, no reference branch)
_base_ = ['./rht_mnv2_coord_300w2012_cpu.py']

load_from = 'checkpoints/trans_mnv2_300w.pth'
model = dict(head=dict(with_reference=False))
