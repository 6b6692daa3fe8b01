# RHT-H on WFLW, model selection on 5 % of the training faces
# (_base_/val_split.py).
_base_ = ['../rht_hrnet_w48_wflw.py', './_base_/val_split.py']
