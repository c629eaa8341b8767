"""Training throughput of the default preset at 64x64: synthetic in-memory tensors vs the real tf.data pipeline
from tiny_imagenet_color, each in float32 and mixed_bfloat16, and which of them ``train.precision: auto`` picks on
this machine (and why); with ``--loop-steps``, also the training loop itself (``colorize.train`` on the real
pipeline, its images/s and host time per step) beside the bare step. Prints one JSON
object.

    python bench/train_throughput.py [--steps 20 --rounds 6] [--data-dir ../shared/data/tfds] [--config configs/X.yaml]
                                     [--set data.cache=true] [--folder [--folder-size 256]] [--loop-steps 300]

The Lab conversion is part of the training step in both cases (the pipeline yields RGB batches).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from colorize.config import load_config  # noqa: E402
from colorize.data import streams as data
from colorize.model import bins  # noqa: E402
from colorize.model.network import build_model  # noqa: E402
from colorize.training.batches import as_training_pair  # noqa: E402
from colorize.training.loop import count_steps_per_epoch, train  # noqa: E402
from colorize.training.losses import Losses  # noqa: E402
from colorize.training.runtime import choose_precision  # noqa: E402


def _train_step(config, precision):
    """A training step of a fresh model built under ``precision``; takes the input iterator."""
    keras.mixed_precision.set_dtype_policy(precision)
    try:
        model = build_model(config)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    optimizer = keras.optimizers.AdamW(1e-3)
    losses = Losses(config, np.ones(bins.num_bins(), np.float32))

    @tf.function
    def step(iterator):
        l, ab = as_training_pair(next(iterator))  # the Lab conversion is part of the step in both cases
        with tf.GradientTape() as tape:
            loss = losses(model(l, training=True), ab)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return step


def measure(config, steps, rounds, warmup=5):
    """Images/s of {synthetic, real} input x {float32, mixed_bfloat16}: the four combinations take turns in
    ``rounds`` blocks of ``steps`` steps, so drifts of the machine hit all alike; the rate of every block."""
    real = iter(data.train_dataset(config))
    if config.data.cache:  # steady state: fill the cache with one pass first
        for _ in range(count_steps_per_epoch(config) + 1):
            next(real)
    rgb = next(real)  # real values, then served from memory
    sources = {"synthetic": iter(tf.data.Dataset.from_tensors(rgb).repeat()), "real": real}
    steps_of = {p: _train_step(config, p) for p in ("float32", "mixed_bfloat16")}
    combos = [(s, p) for p in steps_of for s in sources]
    for source, precision in combos:
        for _ in range(warmup):
            steps_of[precision](sources[source]).numpy()
    rates = {combo: [] for combo in combos}
    for r in range(rounds):
        for source, precision in combos[r % 4:] + combos[:r % 4]:
            start = time.perf_counter()
            for _ in range(steps):
                loss = steps_of[precision](sources[source])
            loss.numpy()
            rates[source, precision].append(steps * config.train.batch_size / (time.perf_counter() - start))
    return {f"{s}_{p}": v for (s, p), v in rates.items()}


def measure_loop(config, steps, precision, log_every):
    """The training loop (``colorize.train``, no validation or checkpoints in between) on the real pipeline:
    images/s after its first call (which traces the graph) and host seconds per step outside the graph calls."""
    import dataclasses
    import tempfile
    train_config = dataclasses.replace(config.train, precision=precision, steps=10 ** 6, log_every=log_every,
                                       checkpoint_every=10 ** 6, validate_every=10 ** 6)
    loop_config = dataclasses.replace(config, data=dataclasses.replace(config.data, val_limit=0), train=train_config)
    with tempfile.TemporaryDirectory() as workdir:
        record = train(loop_config.check(), workdir, max_steps=steps, verbose=False)
    seconds = record["seconds"]
    return {"images_per_second": round(record["images_per_second"], 1), "graph_calls": record["graph_calls"],
            "host_ms_per_step": round(1000 * seconds["host_per_step"], 3), "steps": record["steps"]}


def _make_jpeg_folder(folder, count, size=(1024, 768)):
    """``count`` JPEGs (quality 90) of ``size``: random crops of the scikit-image photos, scaled up as needed."""
    from PIL import Image

    from colorize.data.sources import skimage_photos
    rng = np.random.default_rng(0)
    photos = [Image.fromarray(photo) for _, photo in skimage_photos()]
    for i in range(count):
        photo = photos[i % len(photos)]
        w, h = photo.size
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        left, top = int(rng.integers(w - cw + 1)), int(rng.integers(h - ch + 1))
        photo.crop((left, top, left + cw, top + ch)).resize(size, Image.Resampling.BICUBIC).save(
            folder / f"photo_{i:04d}.jpg", quality=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=6, help="timed blocks per combination, taking turns")
    parser.add_argument("--config", default=str(REPO / "configs" / "tiny_imagenet_64.yaml"),
                        help="the preset to measure (default: the shipped default preset's recipe)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. --set data.cache=true (the real pipeline is then measured "
                             "after one pass has filled the cache, as from the second epoch of training)")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "tfds"))
    parser.add_argument("--folder", action="store_true",
                        help="real pipeline from a folder of 1024x768 JPEGs made in a temporary folder from "
                             "scikit-image's photos (random crops), instead of the config's source")
    parser.add_argument("--folder-size", type=int, default=256, metavar="N", help="JPEGs in the --folder folder")
    parser.add_argument("--loop-steps", type=int, default=0, metavar="N",
                        help="also run the training loop for N steps per precision, between two halves of the "
                             "bare-step rounds, and compare")
    parser.add_argument("--log-every", type=int, default=50, help="the loop's log interval (steps per graph call)")
    args = parser.parse_args()
    if args.folder:
        import tempfile
        folder = tempfile.TemporaryDirectory()
        _make_jpeg_folder(Path(folder.name), args.folder_size)
        args.set = [f"data.source={folder.name}", "data.val_share=0"] + args.set
    result = {"config": Path(args.config).name, "overrides": args.set, "batch_size": None, "steps": args.steps,
              "rounds": args.rounds,
              "images_per_second": {}}
    if args.folder:
        result["folder"] = f"{args.folder_size} JPEGs of 1024x768"
    config = load_config(args.config, [f"data.data_dir={args.data_dir}", "data.shuffle_buffer=2000"] + args.set)
    result["batch_size"] = config.train.batch_size
    blocks = measure(config, args.steps, args.rounds)
    if args.loop_steps:  # the loop between two halves of bare-step rounds, so both see the same machine
        result["loop"] = {p: measure_loop(config, args.loop_steps, p, args.log_every)
                          for p in ("float32", "mixed_bfloat16")}
        for k, v in measure(config, args.steps, args.rounds).items():
            blocks[k] += v
    result["images_per_second"] = {k: round(float(np.median(v)), 1) for k, v in blocks.items()}
    result["block_range"] = {k: [round(min(v), 1), round(max(v), 1)] for k, v in blocks.items()}  # the machine's noise
    ips = result["images_per_second"]
    result["real_over_synthetic"] = {p: round(ips[f"real_{p}"] / ips[f"synthetic_{p}"], 3)
                                     for p in ("float32", "mixed_bfloat16")}
    result["bfloat16_over_float32"] = {s: round(ips[f"{s}_mixed_bfloat16"] / ips[f"{s}_float32"], 3)
                                       for s in ("synthetic", "real")}
    import dataclasses
    chosen = choose_precision(dataclasses.replace(config.train, precision="auto"))
    result["auto"] = {"picks": chosen.policy, "why": chosen.why,  # is auto's pick the faster one here?
                      "faster_measured": max(("float32", "mixed_bfloat16"), key=lambda p: ips[f"synthetic_{p}"])}
    for p, loop in result.get("loop", {}).items():
        loop["over_bare_real_step"] = round(loop["images_per_second"] / ips[f"real_{p}"], 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
