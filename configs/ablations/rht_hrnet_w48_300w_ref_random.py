# Table VII: a random training face as reference for each test face
# (redrawn at every access; the seed of `randomness` fixes the draw).
_base_ = ['../rht_hrnet_w48_300w.py']

val_dataloader = dict(dataset=dict(ref_mode='random'))
test_dataloader = val_dataloader
