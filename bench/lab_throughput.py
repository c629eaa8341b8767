"""Throughput of ``colorize.color.rgb_to_lab`` against ``skimage.color.rgb2lab`` on the same photos.

The inputs are N (default 256) 128x128 crops of scikit-image's bundled photos (random crop positions and
sizes, resized with Pillow, seeded), float32 RGB in [0, 1]. Every variant gets the same numpy array and must
hand back a numpy array, so conversion in and out is timed too. Variants:

    tf_function_batched       tf.function(rgb_to_lab), one call on the whole (N, 128, 128, 3) batch
    tf_function_xla_batched   the same with jit_compile=True (XLA)
    tf_function_per_image     tf.function(rgb_to_lab), one call per (128, 128, 3) image
    tf_function_xla_per_image the same with jit_compile=True
    skimage_batched           skimage.color.rgb2lab on the whole batch (it accepts leading dimensions)
    skimage_per_image         skimage.color.rgb2lab image by image

Each variant is warmed up once (tracing and compiling are not timed), then timed ``--repeats`` times; images/s
is reported from the median repeat (and from the fastest). ``ratio_ours_over_skimage`` divides the best TF
variant by the best scikit-image variant, both by median. ``max_abs_diff`` compares our float32 Lab with
scikit-image's float64 Lab of the same pixels (L, a, b in Lab units).

    nice python bench/lab_throughput.py [--images 256] [--size 128] [--repeats 5]

Prints one JSON object on stdout.
"""
import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")


def make_crops(n, size, seed=0):
    """``n`` (size, size, 3) float32 crops in [0, 1]: random square crops of the bundled photos, resized."""
    import skimage.data
    from PIL import Image
    rng = np.random.default_rng(seed)
    photos = [getattr(skimage.data, name)()[..., :3] for name in PHOTOS]
    crops = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(size, h, w), min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = Image.fromarray(photo[y:y + side, x:x + side])
        crops[i] = np.asarray(crop.resize((size, size), Image.Resampling.BICUBIC))
    return crops.astype(np.float32) / np.float32(255)


def _time(fn, repeats):
    fn()  # warm-up: tracing / XLA compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import skimage
    import skimage.color
    import tensorflow as tf

    from colorize import color

    batch = make_crops(args.images, args.size, args.seed)
    ours = tf.function(color.rgb_to_lab)
    ours_xla = tf.function(color.rgb_to_lab, jit_compile=True)
    variants = {
        "tf_function_batched": lambda: ours(batch).numpy(),
        "tf_function_xla_batched": lambda: ours_xla(batch).numpy(),
        "tf_function_per_image": lambda: [ours(im).numpy() for im in batch],
        "tf_function_xla_per_image": lambda: [ours_xla(im).numpy() for im in batch],
        "skimage_batched": lambda: skimage.color.rgb2lab(batch),
        "skimage_per_image": lambda: [skimage.color.rgb2lab(im) for im in batch],
    }
    results = {}
    for name, fn in variants.items():
        print(f"timing {name} ...", file=sys.stderr)
        times = _time(fn, args.repeats)
        results[name] = {"images_per_s": round(args.images / float(np.median(times)), 1),
                         "images_per_s_fastest_repeat": round(args.images / min(times), 1),
                         "seconds_median": round(float(np.median(times)), 4)}

    reference = skimage.color.rgb2lab(batch.astype(np.float64))
    diffs = {"tf_function": np.abs(ours(batch).numpy() - reference),
             "tf_function_xla": np.abs(ours_xla(batch).numpy() - reference),
             "skimage_float32": np.abs(skimage.color.rgb2lab(batch) - reference)}
    best_tf = max((n for n in results if n.startswith("tf_")), key=lambda n: results[n]["images_per_s"])
    best_sk = max((n for n in results if n.startswith("skimage")), key=lambda n: results[n]["images_per_s"])
    report = {
        "benchmark": "rgb_to_lab throughput",
        "images": args.images, "image_size": [args.size, args.size], "photos": list(PHOTOS), "seed": args.seed,
        "repeats": args.repeats, "statistic": "images/s from the median repeat, after one untimed warm-up",
        "results": results,
        "best_ours": {"variant": best_tf, "images_per_s": results[best_tf]["images_per_s"]},
        "best_skimage": {"variant": best_sk, "images_per_s": results[best_sk]["images_per_s"]},
        "ratio_ours_over_skimage": round(results[best_tf]["images_per_s"] / results[best_sk]["images_per_s"], 2),
        "ratio_same_layout": {
            "batched": round(results["tf_function_batched"]["images_per_s"]
                             / results["skimage_batched"]["images_per_s"], 2),
            "per_image": round(results["tf_function_per_image"]["images_per_s"]
                               / results["skimage_per_image"]["images_per_s"], 2)},
        "max_abs_diff_vs_skimage_float64": {
            name: {"L": float(d[..., 0].max()), "a": float(d[..., 1].max()), "b": float(d[..., 2].max()),
                   "all": float(d.max())} for name, d in diffs.items()},
        "environment": {"tensorflow": tf.__version__, "skimage": skimage.__version__, "numpy": np.__version__,
                        "cpu_count": os.cpu_count(), "machine": platform.machine(),
                        "tf_devices": [d.name for d in tf.config.list_logical_devices()],
                        "note": "TensorFlow uses every core by default; scikit-image/numpy run on one"},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
