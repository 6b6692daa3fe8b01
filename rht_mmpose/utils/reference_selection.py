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


def choose_references(mode: str,
                      pool_size: int,
                      batch_size: int,
                      num_refs: int = 1,
                      scores=None,
                      ref_index=0,
                      device=None):
    """Pool indices (B, k) of the references of B targets, by a model
    selection word.

    Args:
        mode (str): ``'descriptor' | 'stm_match' | 'fixed' | 'random'``
        pool_size (int): N faces in the pool
        batch_size (int): B targets
        num_refs (int): k (at most N)
        scores (callable, optional): () -> (B, N) similarity of every
            target to every pool face (``'descriptor'``, ``'stm_match'``),
            called only when needed; the k best are taken, best first
        ref_index (int | Sequence[int]): pool indices for ``'fixed'``
        device (torch.device, optional): of the result

    Returns:
        Tensor: (B, k) int64
    """
    import torch
    check_selection(mode, 'model')
    if pool_size == 0:
        raise ValueError(
            'no reference in the data samples and the reference pool is '
            'empty: call set_reference_pool() or load a checkpoint with '
            'a pool, or feed samples with ref_img / ref_heatmaps')
    k = min(num_refs, pool_size)
    if mode in ('descriptor', 'stm_match'):
        return scores().topk(k, dim=1).indices
    if mode == 'fixed':
        idx = [ref_index] if isinstance(ref_index, int) else list(ref_index)
        if len(idx) != num_refs and num_refs != 1:
            raise ValueError(f'ref_index {ref_index} has {len(idx)} '
                             f'entries, expected num_refs={num_refs}')
        if any(i < 0 or i >= pool_size for i in idx):
            raise ValueError(f'ref_index {ref_index} out of the pool '
                             f'range [0, {pool_size})')
        return torch.tensor(idx, device=device).expand(batch_size, -1)
    return torch.stack([torch.randperm(pool_size)[:k]
                        for _ in range(batch_size)]).to(device)
