"""One vocabulary for choosing a target's reference face.

The dataset wrapper (:class:`PairedReferenceDataset`, references from a
dataset, the paper's protocol) and the model's built-in pool
(:class:`ReferencePool`, the demo and the API) choose references with the
same words; each word means one thing wherever it is accepted:

- ``'sift'``: the face with the most SIFT good matches (the paper's test
  protocol); dataset only;
- ``'sift_least'``: the face with the fewest (Table VII); dataset only;
- ``'descriptor'``: the highest cosine of the head's global descriptors;
  model pool only (it needs the weights);
- ``'stm_match'``: the best mean STM confidence of the target's query
  patches against the face's key patches; model pool only;
- ``'fixed'``: one given face, both;
- ``'random'``: a uniform draw, both (the paper's training protocol).

A face is never its own reference: see
:meth:`PairedReferenceDataset.is_target_itself`, the one place that rule
is written (the model's pool holds training faces, never test targets).
"""

SELECTIONS = {
    'sift': ('dataset', ),
    'sift_least': ('dataset', ),
    'descriptor': ('model', ),
    'stm_match': ('model', ),
    'fixed': ('dataset', 'model'),
    'random': ('dataset', 'model'),
}
# words of earlier versions: they meant different things in the dataset and
# the model, so they are refused with their new names
RENAMED = {
    'most_similar': "'sift' (dataset) or 'descriptor' (model pool)",
    'least_similar': "'sift_least'",
    'best_match': "'stm_match'",
}


def selections_for(where: str) -> tuple:
    """The words accepted by ``where`` ('dataset' or 'model')."""
    return tuple(w for w, places in SELECTIONS.items() if where in places)


def check_selection(mode: str, where: str) -> str:
    """Return ``mode`` when ``where`` ('dataset' or 'model') accepts it;
    otherwise raise a ValueError naming it and the accepted words."""
    if mode in RENAMED:
        raise ValueError(f'ref_mode {mode!r} was renamed: use '
                         f'{RENAMED[mode]}')
    accepted = selections_for(where)
    if mode not in accepted:
        raise ValueError(f'ref_mode {mode!r} is not a {where} reference '
                         f'selection, expected one of {accepted}')
    return mode
