"""End-to-end latency (file in, PNG out) of ``Colorizer``, its per-stage breakdown, folder throughput, and the
same latency for a network the size of Zhang et al.'s ECCV 2016 colorizer (``bench/zhang_reference.py``).

Inputs are made in a temporary folder from scikit-image's bundled photos, resized with Pillow and saved as
JPEG (quality 90): one 768x512 and one 1920x1080 photo (width x height) and a folder of ``--folder-size``
768x512 photos (random crops, seeded).

* latency: ``colorizer.colorize(path)`` + ``imageio.save_png``, median and p90 over ``--runs`` runs, after
  ``--warmup`` untimed runs (tracing).
* breakdown: the same pipeline, stage by stage, calling the pieces ``Colorizer`` is made of: decode
  (``Preprocessor.decode``: the samples as decoded), Lab (L of the full image from them, ``per_pixel.lightness``),
  resize (to the model input, edge-padded, scaled), model (``Colorizer.network``, compiled, on a batch of one,
  readout included), ab upsampling (the guided filter's coefficients, resized across the columns), Lab -> RGB
  (``per_pixel.finish_tiles``: rows interpolated, ab = a * L + b, sRGB, uint8, gamut fitting), encode
  (``save_png``).
  Medians per stage; their sum is a little above the end-to-end figure, which runs Lab + resize and
  upsampling + Lab -> RGB in one graph each.
* folder: images/s over the whole folder, one by one (``colorize`` + ``save_png`` per file) and batched the
  way ``colorize predict`` does it (``colorize_batch`` with ``--batch-size``, default 16, while the next batch
  is decoded in a 2-thread pool and the PNGs are written in another).
* compare (``--compare-preset NAME``): the end-to-end latency of that preset on the same unhinted photos, its runs
  interleaved with the main preset's (so a busy machine slows both alike), and ``ratio`` = its median over ours
  (the hint preset against the default: what the page's first view costs).
* zhang_reference: the ECCV 2016 network (random weights, ~32M parameters, 256x256 input, 313 bins) run end to
  end on the same two photos with the same decoding / colour / encoding code; ``ratio_zhang_over_ours`` is its
  median latency over ours.

The model is the default preset's (``load_pretrained()``) if its weights exist, otherwise the same architecture
with random weights (timing does not depend on the weights); ``model.weights`` says which.

    nice python bench/inference_latency.py [--runs 20] [--folder-size 100]   # quick check: --runs 2 --folder-size 4

Prints one JSON object on stdout (progress goes to stderr).
"""
import argparse
import concurrent.futures
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SIZES = {"768x512": (768, 512), "1920x1080": (1920, 1080)}  # width x height
SOURCES = {"768x512": "coffee", "1920x1080": "rocket"}
FOLDER_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _photo(name):
    import skimage.data
    return getattr(skimage.data, name)()[..., :3]


def _fit(image, width, height, rng=None):
    """Crop ``image`` to the aspect ratio width:height (centred, or at random with ``rng``), resize, -> PIL."""
    from PIL import Image
    h, w = image.shape[:2]
    scale = min(w / width, h / height)
    if rng is not None:
        scale *= rng.uniform(0.6, 1.0)
    cw, ch = max(1, round(width * scale)), max(1, round(height * scale))
    if rng is None:
        y, x = (h - ch) // 2, (w - cw) // 2
    else:
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return Image.fromarray(image[y:y + ch, x:x + cw]).resize((width, height), Image.Resampling.LANCZOS)


def make_inputs(folder, folder_size, seed=0):
    folder = Path(folder)
    singles = {}
    for key, (width, height) in SIZES.items():
        singles[key] = folder / f"photo_{key}.jpg"
        _fit(_photo(SOURCES[key]), width, height).save(singles[key], quality=90)
    batch_dir = folder / "folder"
    batch_dir.mkdir()
    rng = np.random.default_rng(seed)
    photos = [_photo(name) for name in FOLDER_PHOTOS]
    files = []
    for i in range(folder_size):
        path = batch_dir / f"{i:04d}.jpg"
        _fit(photos[i % len(photos)], 768, 512, rng).save(path, quality=90)
        files.append(path)
    return singles, files


def make_colorizer(preset=None):
    from colorize import WeightsError
    from colorize.model.network import build_model
    from colorize.pipeline.colorizer import Colorizer, load_pretrained
    from colorize.pipeline.readout import Readout
    from colorize.presets import get_preset
    spec = get_preset(preset)
    try:
        colorizer = load_pretrained(spec.name)
        weights = f"pretrained ({spec.weights})"
    except WeightsError as err:
        colorizer = Colorizer(build_model(spec.model_config), spec.model_config, readout=Readout(**spec.readout),
                              name=spec.name)
        weights = f"random (load_pretrained failed: {err})"
    return colorizer, {"preset": spec.name, "weights": weights, "input_size": spec.model_config.input_size,
                       "parameters": colorizer.model.count_params(), "readout": colorizer.readout.kind,
                       "upsampling": colorizer.upsampling}


def _stats(times):
    times = np.asarray(times, np.float64) * 1000.0
    return {"median_ms": round(float(np.median(times)), 2), "p90_ms": round(float(np.percentile(times, 90)), 2),
            "min_ms": round(float(times.min()), 2), "runs": len(times)}


def _timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


class Stages:
    """The Colorizer's pipeline cut at each stage, the pieces ``prepare`` and ``finish`` call (the fast path)."""

    def __init__(self, colorizer):
        from colorize.pipeline.preprocess import Prepared
        self.prepared = Prepared
        self.c = colorizer

    def run(self, path, output):
        from colorize import io as imageio
        from colorize.pipeline import per_pixel
        from colorize.pipeline.postprocess import row_weights
        post = self.c.postprocessor
        clock, marks = time.perf_counter, {}
        t = clock()
        rgb = self.c.preprocessor.decode(path)
        marks["decode"], t = clock() - t, clock()
        lightness = per_pixel.lightness(rgb)
        marks["lab"], t = clock() - t, clock()
        l_scaled, h, w = self.c.preprocessor.from_lightness(lightness)
        marks["resize"], t = clock() - t, clock()
        ab = self.c.network([self.prepared(l_scaled, lightness, h, w)]).numpy()[0]
        marks["model"], t = clock() - t, clock()
        across = post.upsample_across(lightness, ab * self.c.saturation, h, w).numpy()
        marks["ab_upsampling"], t = clock() - t, clock()
        out = per_pixel.finish_tiles(lightness, across, *row_weights(across.shape[0], lightness.shape[0]),
                                     post.input_size)
        marks["lab_to_rgb"], t = clock() - t, clock()
        imageio.save_png(out, output, overwrite=True)
        marks["encode"] = clock() - t
        return marks, out


def _end_to_end(colorizer, path, output):
    from colorize import io as imageio
    return imageio.save_png(colorizer.colorize(path), output, overwrite=True)


def compare(ours, other, singles, out, args):
    """Both colorizers end to end on each photo, one run of each in turn; medians and other / ours."""
    result = {"preset": other.name}
    for key, path in singles.items():
        _log(f"compare {other.name} {key} ...")
        times = {"ours": [], "other": []}
        for run in range(args.warmup + args.runs):
            for who, colorizer in (("ours", ours), ("other", other)):
                start = time.perf_counter()
                _end_to_end(colorizer, path, out / f"compare_{who}_{key}.png")
                if run >= args.warmup:
                    times[who].append(time.perf_counter() - start)
        result[key] = {"ours": _stats(times["ours"]), "other": _stats(times["other"]),
                       "ratio": round(float(np.median(times["other"]) / np.median(times["ours"])), 3)}
    return result


def folder_one_by_one(colorizer, files, outdir):
    from colorize import io as imageio
    for f in files:
        imageio.save_png(colorizer.colorize(f), Path(outdir) / (f.stem + ".png"), overwrite=True)


def folder_batched(colorizer, files, outdir, batch_size):
    """As ``colorize predict`` does it: the next batch decoded (2 threads) while this one is colorized with
    colorize_batch, PNGs written meanwhile (2 threads of their own)."""
    from colorize import io as imageio
    chunks = [files[start:start + batch_size] for start in range(0, len(files), batch_size)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as readers, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as writers:
        writes = []
        decode = colorizer.preprocessor.decode  # as predict: the decoded samples, not float32
        loading = [readers.submit(decode, f, str(f)) for f in chunks[0]]
        for i, chunk in enumerate(chunks):
            images = [future.result() for future in loading]
            loading = [readers.submit(decode, f, str(f)) for f in chunks[i + 1]] if i + 1 < len(chunks) else []
            results = colorizer.colorize_batch(images, batch_size=batch_size)
            writes += [writers.submit(imageio.save_png, rgb, Path(outdir) / (f.stem + ".png"), overwrite=True)
                       for f, rgb in zip(chunk, results)]
        for future in writes:
            future.result()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per photo size")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (tracing)")
    parser.add_argument("--folder-size", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--preset", help="default: the shipped preset")
    parser.add_argument("--compare-preset", help="also time this preset end to end, interleaved (see compare)")
    parser.add_argument("--zhang-runs", type=int, help="timed runs of the Zhang reference (default: --runs)")
    parser.add_argument("--no-zhang", action="store_true", help="skip the Zhang et al. reference")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.runs, args.folder_size, args.batch_size) < 1 or args.warmup < 0:
        parser.error("--runs, --folder-size and --batch-size must be at least 1, --warmup at least 0")

    import tensorflow as tf

    colorizer, model_info = make_colorizer(args.preset)
    report = {"benchmark": "inference latency, file to file (JPEG in, PNG out)", "model": model_info,
              "runs": args.runs, "warmup_runs": args.warmup}
    with tempfile.TemporaryDirectory(prefix="colorize-bench-") as tmp:
        tmp = Path(tmp)
        _log(f"making inputs in {tmp} ...")
        singles, files = make_inputs(tmp, args.folder_size, args.seed)
        out = tmp / "out"
        out.mkdir()

        stages = Stages(colorizer)
        latency = {}
        for key, path in singles.items():
            _log(f"latency {key} ...")
            e2e = _timed(lambda: _end_to_end(colorizer, path, out / f"{key}.png"), args.runs, args.warmup)
            marks = []
            _timed(lambda: marks.append(stages.run(path, out / f"{key}_stages.png")[0]), args.runs, args.warmup)
            marks = marks[args.warmup:]
            breakdown = {name: round(float(np.median([m[name] for m in marks])) * 1000.0, 2) for name in marks[0]}
            latency[key] = {"end_to_end": _stats(e2e),
                            "stages_median_ms": breakdown,
                            "stages_sum_ms": round(sum(breakdown.values()), 2)}
        stage_out = stages.run(singles["768x512"], out / "check.png")[1]
        report["latency"] = latency
        report["stages_match_colorize"] = bool(np.array_equal(stage_out, colorizer.colorize(singles["768x512"])))

        if args.compare_preset:
            report["compare"] = compare(colorizer, make_colorizer(args.compare_preset)[0], singles, out, args)

        _log(f"folder of {len(files)} ...")
        n_warm = min(args.batch_size, len(files))
        folder_batched(colorizer, files[:n_warm], out, args.batch_size)  # warm-up: batch shapes, thread pool
        folder = {"photos": len(files), "photo_size": "768x512", "batch_size": args.batch_size}
        for name, fn in (("one_by_one", lambda: folder_one_by_one(colorizer, files, out)),
                         ("batched_threaded", lambda: folder_batched(colorizer, files, out, args.batch_size))):
            start = time.perf_counter()
            fn()
            seconds = time.perf_counter() - start
            folder[name] = {"seconds": round(seconds, 3), "images_per_s": round(len(files) / seconds, 2)}
        folder["speedup_batched"] = round(folder["batched_threaded"]["images_per_s"]
                                          / folder["one_by_one"]["images_per_s"], 2)
        report["folder_throughput"] = folder

        if not args.no_zhang:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from zhang_reference import ZhangPipeline
            zhang = ZhangPipeline()
            runs = args.zhang_runs or args.runs
            zr = {"parameters": zhang.model.count_params(), "input_size": 256, "bins": 313,
                  "weights": "random", "runs": runs}
            for key, path in singles.items():
                _log(f"zhang reference {key} ...")
                e2e = _timed(lambda: zhang.colorize_file(path, out / f"zhang_{key}.png"), runs, min(args.warmup, 1))
                zr[key] = {"end_to_end": _stats(e2e),
                           "ratio_zhang_over_ours": round(float(np.median(e2e)) * 1000.0
                                                          / latency[key]["end_to_end"]["median_ms"], 2)}
            l_in = tf.zeros([1, 256, 256, 1])
            zr["network_only"] = _stats(_timed(lambda: zhang.network(l_in).numpy(), runs, 1))
            l_ours = tf.zeros([1, colorizer.config.input_size, colorizer.config.input_size, 1])
            ours = [stages.prepared(l_ours[0], tf.zeros([1, 1, 1]), tf.constant(l_ours.shape[1]),
                                    tf.constant(l_ours.shape[2]))]
            report["our_network_only"] = _stats(_timed(lambda: colorizer.network(ours).numpy(), args.runs, 1))
            report["zhang_reference"] = zr

    report["retraces"] = colorizer.tracing_counts()
    report["environment"] = {"tensorflow": tf.__version__, "cpu_count": os.cpu_count(),
                             "machine": platform.machine(),
                             "tf_devices": [d.name for d in tf.config.list_logical_devices()],
                             "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
