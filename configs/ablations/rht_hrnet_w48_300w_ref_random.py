# A random training face as reference for each test face (redrawn at every
# access; the seed of `randomness` fixes the draw). Not the paper's
# "random" row of Table VII, which is the mean of five runs with one fixed
# face each: ./rht_hrnet_w48_300w_ref_five_fixed.py.
_base_ = ['../rht_hrnet_w48_300w.py']

val_dataloader = dict(dataset=dict(ref_mode='random'))
test_dataloader = val_dataloader
