"""Shrink the last checkpoint of a work dir into <prefix>.pth (fp16 weights,
meta, no optimiser state) split into parts of at most 15 MB so they pass the
device tool's 16 MB per-file limit; `tools/experiments/gpu/unpack_checkpoint.py` joins
them back."""
import argparse
import glob
import json
import os
import os.path as osp

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('work_dir')
    parser.add_argument('prefix')
    parser.add_argument('--epochs', type=int)
    parser.add_argument('--seconds', type=int)
    parser.add_argument('--device', default='')
    args = parser.parse_args()
    ckpts = sorted(glob.glob(osp.join(args.work_dir, 'epoch_*.pth')),
                   key=lambda p: int(p.rsplit('_', 1)[1].split('.')[0]))
    if not ckpts:
        raise SystemExit(f'no epoch_*.pth in {args.work_dir}')
    ckpt = torch.load(ckpts[-1], map_location='cpu', weights_only=False)
    state = {
        k: (v.half() if v.is_floating_point() else v)
        for k, v in ckpt['state_dict'].items()
    }
    meta = dict(
        source=osp.basename(ckpts[-1]), epochs=args.epochs,
        train_seconds=args.seconds, device=args.device,
        epoch=ckpt['meta'].get('epoch'), iter=ckpt['meta'].get('iter'))
    blob = osp.join(osp.dirname(args.prefix) or '.', 'tmp_blob.pth')
    torch.save(dict(state_dict=state, meta=meta), blob)
    data = open(blob, 'rb').read()
    os.remove(blob)
    part = 15 * 1024 * 1024
    for i in range(0, len(data), part):
        with open(f'{args.prefix}.part{i // part}', 'wb') as f:
            f.write(data[i:i + part])
    with open(f'{args.prefix}.json', 'w') as f:
        json.dump(dict(meta, parts=(len(data) + part - 1) // part,
                       bytes=len(data)), f)
    print(args.prefix, len(data), 'bytes', meta)


if __name__ == '__main__':
    main()
