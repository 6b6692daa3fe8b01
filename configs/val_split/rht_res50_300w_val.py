# RHT-R on 300W, model selection on 5 % of the training faces
# (_base_/val_split.py).
_base_ = ['../rht_res50_300w.py', './_base_/val_split.py']
