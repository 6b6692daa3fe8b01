# Table V, RHT row of the four-hourglass backbone: as
# ./rht_hourglass1_300w.py with four stacks; the RHT head reads the last
# stack's output (the baseline, ../baselines/hourglass4_300w.py,
# supervises every stack).
_base_ = ['./rht_hourglass1_300w.py']

model = dict(backbone=dict(num_stacks=4))
