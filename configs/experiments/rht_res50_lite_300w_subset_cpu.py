# RHT-R-lite on the real 300W subset, sized for a laptop CPU (2 images per
# batch, one loader worker), as configs/rht_res50_300w_subset_cpu.py is for
# RHT-R. Time per iteration on a 2-core machine: see docs/configs.md.
#   python tools/train.py configs/rht_res50_lite_300w_subset_cpu.py
_base_ = ['./rht_res50_lite_300w_subset.py']

train_dataloader = dict(batch_size=2, num_workers=1, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=1, persistent_workers=False)
test_dataloader = val_dataloader
