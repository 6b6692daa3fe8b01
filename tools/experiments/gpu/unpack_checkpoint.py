"""Join the parts written by pack_checkpoint.py into one checkpoint file
(fp16 weights; mmengine's load_checkpoint casts them to the model's dtype)."""
import argparse
import json
import os


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('prefix', help='path prefix of <prefix>.partN')
    parser.add_argument('out', help='output .pth path')
    args = parser.parse_args()
    with open(args.prefix + '.json') as f:
        info = json.load(f)
    tmp = args.out + '.tmp'
    with open(tmp, 'wb') as out:
        for i in range(info['parts']):
            with open(f'{args.prefix}.part{i}', 'rb') as f:
                out.write(f.read())
    if os.path.getsize(tmp) != info['bytes']:
        raise SystemExit(f'{args.out}: joined {os.path.getsize(tmp)} bytes, '
                         f'expected {info["bytes"]}')
    os.replace(tmp, args.out)
    print(args.out, info)


if __name__ == '__main__':
    main()
