# Trans-R-S: RHT-R-S without the reference branch, same data, budget, seed
# and augmentation (the identical-budget arm of the CPU comparison).
_base_ = ['./rht_res18_s_300w_subset_cpu.py']

model = dict(head=dict(with_reference=False))
