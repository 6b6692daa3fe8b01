# Table V baseline: four stacked hourglasses, intermediate supervision on
# every stack (CPMHead with one stage per stack), on 300W.
_base_ = ['./hourglass1_300w.py']

model = dict(
    backbone=dict(num_stacks=4), head=dict(num_stages=4))
