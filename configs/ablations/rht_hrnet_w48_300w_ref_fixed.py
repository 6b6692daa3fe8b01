# Table VII: one fixed reference for every test face (the paper: a neutral,
# frontal face). Pick it in the training set by its img_id, e.g.
#   --cfg-options test_dataloader.dataset.ref_img_id=<id>
# (the default is the first training face, ref_index=0).
_base_ = ['../rht_hrnet_w48_300w.py']

val_dataloader = dict(dataset=dict(ref_mode='fixed', ref_index=0))
test_dataloader = val_dataloader
