# RHT-R on 300W: 68 landmarks + 13 boundaries;
# ResNet-50 + TransREncoder.
# Paper recipe: 150 epochs, Adam 1e-4 -> 1e-5 cosine, 8 GPUs x 8 images,
# lambda = 0.1, test reference = the most SIFT-similar training face.
_base_ = [
    './_base_/rht_runtime.py',
    './_base_/datasets/rht_300w.py',
    './_base_/models/rht_res50.py',
]

codec = {{_base_.codec}}

model = dict(head=dict(num_keypoints=68, num_boundaries=13, decoder=codec))
