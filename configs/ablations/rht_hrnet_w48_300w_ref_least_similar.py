# Table VII: test RHT-H (trained with ../rht_hrnet_w48_300w.py) with the
# training face that has the FEWEST SIFT matches as reference. Evaluation
# only: python tools/test.py THIS_CONFIG CHECKPOINT
_base_ = ['../rht_hrnet_w48_300w.py']

val_dataloader = dict(dataset=dict(ref_mode='sift_least'))
test_dataloader = val_dataloader
