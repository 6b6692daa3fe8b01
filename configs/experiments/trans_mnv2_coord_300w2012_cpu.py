# Trans-MNv2, stage 3: the baseline arm of rht_mnv2_coord_300w2012_cpu.py
# (same stage, from the baseline's epoch 40, no reference branch)
_base_ = ['./rht_mnv2_coord_300w2012_cpu.py']

# epoch 40 of stage 2 (the run behind the shipped weights loaded its fp16
# bundle, `git show 7c5a130:checkpoints/trans_mnv2_300w.pth`)
load_from = 'work_dirs/mnv2/trans_mnv2/epoch_40.pth'
model = dict(head=dict(with_reference=False))
