# RHT-R on COFW, model selection on 5 % of the training faces
# (_base_/val_split.py).
_base_ = ['../rht_res50_cofw.py', './_base_/val_split.py']
