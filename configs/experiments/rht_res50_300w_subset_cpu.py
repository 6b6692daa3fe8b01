# RHT-R on the real 300W subset, sized for a laptop CPU: 2 images per batch,
# one loader worker each. Same model, data and schedule as the parent (its
# learning rate is for batch 16: add --auto-scale-lr to scale it to 2).
# Time per iteration on a 2-core machine: see docs/configs.md.
#   python tools/train.py configs/rht_res50_300w_subset_cpu.py
_base_ = ['./rht_res50_300w_subset.py']

train_dataloader = dict(batch_size=2, num_workers=1, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=False)
test_dataloader = val_dataloader
