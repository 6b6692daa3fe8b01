# Trans-H baseline on the real 300W subset: RHT-H without the reference
# branch, same data, budget, seed and augmentation.
_base_ = ['./rht_hrnet_w48_300w_subset.py']

model = dict(head=dict(with_reference=False))
