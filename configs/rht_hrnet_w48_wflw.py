# RHT-H on WFLW: 98 landmarks + 13 boundaries;
# HRNet-W48 to stage 3 + TransHEncoder.
# Paper recipe: 150 epochs, Adam 1e-4 -> 1e-5 cosine, 8 GPUs x 8 images,
# lambda = 0.1, test reference = the most SIFT-similar training face.
_base_ = [
    './_base_/rht_runtime.py',
    './_base_/datasets/rht_wflw.py',
    './_base_/models/rht_hrnet_w48.py',
]

codec = {{_base_.codec}}

model = dict(head=dict(num_keypoints=98, num_boundaries=13, decoder=codec))
