# Table VII "random": five training faces, drawn once, each the reference of
# EVERY test face in its own run; the reported figure is the mean of the
# five runs. Run all five and average them with
#   python tools/analysis/five_fixed_refs.py THIS_CONFIG CHECKPOINT
# (the checkpoint of ../rht_hrnet_w48_300w.py), which sets ref_index to each
# face in turn (a plain tools/test.py run keeps the parent's ref_index).
# The faces: numpy.random.default_rng(0).choice(3148, 5, replace=False),
# sorted, as indices into face_landmarks_300w_train.json.
_base_ = ['./rht_hrnet_w48_300w_ref_fixed.py']

ref_indices = [849, 969, 1608, 2003, 2674]
