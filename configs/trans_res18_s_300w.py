# The shipped model checkpoints/trans_res18_s_300w.pth: the Trans-R-S
# baseline shipped beside the default (trained with
# experiments/trans_res18_s_300w2012_cpu_stage3.py), with its own linear
# shape refiner; the same test set and protocol as
# rht_res18_s_match_300w.py, whose network it is without the reference
# branch (and so without its correspondence loss).
#   python tools/test.py configs/trans_res18_s_300w.py \
#       checkpoints/trans_res18_s_300w.pth
_base_ = ['./rht_res18_s_match_300w.py']

model = dict(
    head=dict(
        _delete_=True,
        with_reference=False,
        **{k: v
           for k, v in _base_.model.head.items()
           if not k.startswith('match_')}),
    test_cfg=dict(ref_mode='descriptor', num_refs=1))
