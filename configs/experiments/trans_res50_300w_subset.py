# Trans-R baseline: RHT-R without the reference branch, same data, budget,
# seed and augmentation (the identical-budget arm of the real-data result).
_base_ = ['./rht_res50_300w_subset.py']

model = dict(head=dict(with_reference=False))
