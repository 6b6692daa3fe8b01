# Trans-MNv2 as shipped beside RHT-MNv2: the same network without the
# reference branch (the identical-budget baseline, trained with
# experiments/trans_mnv2_300w2012_cpu.py, trans_mnv2_coord_300w2012_cpu.py,
# trans_mnv2_coord2_300w2012_cpu.py, trans_mnv2_zerobased_300w2012_cpu.py and
# trans_mnv2_longer_300w2012_cpu.py),
# with its own shape refiner; the same test set and protocol as
# rht_mnv2_300w.py.
#   python tools/test.py configs/trans_mnv2_300w.py checkpoints/trans_mnv2_300w.pth
_base_ = ['./rht_mnv2_300w.py']

model = dict(
    head=dict(with_reference=False),
    test_cfg=dict(ref_mode='descriptor', num_refs=1))
