# Trans-MNv2, stage 4: the baseline arm of rht_mnv2_coord2_300w2012_cpu.py
_base_ = ['./rht_mnv2_coord2_300w2012_cpu.py']

load_from = 'work_dirs/mnv2/trans_mnv2_coord/epoch_15.pth'
model = dict(head=dict(with_reference=False))
