# Trans-MNv2 with lateral features: the baseline arm of
# rht_mnv2_lateral_300w2012_cpu.py (control: trans_mnv2_fixcrop_300w2012_cpu.py)
_base_ = ['./rht_mnv2_lateral_300w2012_cpu.py']

load_from = 'work_dirs/mnv2/trans_mnv2_coord2/epoch_12.pth'
model = dict(head=dict(with_reference=False))
