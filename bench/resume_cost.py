"""How long a resumed training run waits for its first batch: the training stream (``colorize.data``) started
at a given step, from its construction to the first batch in hand, for each step asked.

    python bench/resume_cost.py --steps 0 800 3000                     # Tiny ImageNet, batch 64
    python bench/resume_cost.py --source ../shared/data/dev_photos --batch 16 --steps 0 10 100 --cache

Prints JSON: seconds to the first batch per step, and the stream position each step stands for (every record of
these sources is a colour photo, so step S starts at record S x batch of the epoch order). It also runs with an
older colorize first on PYTHONPATH (``train_dataset(config, start_step=S)``), to compare before and after.
"""
import argparse
import inspect
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from colorize.config import load_config  # noqa: E402
from colorize.data import streams as data  # noqa: E402

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "tiny_imagenet_64.yaml")


def first_batch_seconds(config, step, records):
    began = time.perf_counter()
    if "start_step" in inspect.signature(data.train_dataset).parameters:  # an older colorize
        stream = data.train_dataset(config, start_step=step)
    else:
        epoch, index = divmod(step * config.train.batch_size, records)
        stream = data.train_dataset(config, start=data.position(epoch, index))
    next(iter(stream))
    return time.perf_counter() - began


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="tfds:tiny_imagenet_color")
    parser.add_argument("--data-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                           "shared", "data", "tfds"))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 800, 3000])
    parser.add_argument("--cache", action="store_true")
    args = parser.parse_args(argv)
    config = load_config(CONFIG, [f"data.source={args.source}", f"data.data_dir={args.data_dir}",
                                  f"train.batch_size={args.batch}", f"data.cache={str(args.cache).lower()}",
                                  "data.val_share=0"])
    records = int(data.records(config.data, config.data.train_split)[0].cardinality())
    first_batch_seconds(config, 0, records)  # TensorFlow's start-up, the TFDS metadata, the folder scan
    out = {"source": args.source, "batch": args.batch, "cache": args.cache, "records": records,
           "colorize": os.path.dirname(data.__file__), "seconds_to_first_batch": {}}
    for step in args.steps:
        out["seconds_to_first_batch"][str(step)] = round(first_batch_seconds(config, step, records), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
