"""Peak memory (RSS) of ``colorize predict``: one 6000x4000 photo, and a folder of 20 such photos at default settings.

Each scenario runs ``python -m colorize.cli predict INPUT -o OUT --quiet`` in a fresh process and reads that
process's peak resident set size from the kernel (``os.wait4``). The idle process is the same command on a
64x64 photo: TensorFlow, the model and every compiled kernel, but no big image; the figures that matter are the
bytes per pixel above it.

Inputs, made in a temporary folder: scikit-image's ``rocket`` resized with Pillow to ``--size`` (default 6000x4000,
width x height) and saved as JPEG (quality 90); the folder holds ``--folder-size`` copies of it. ``--zero-png``
adds the case of an all-zero 9000x9000 PNG (a 79 KB file of 81 Mpx). ``--hints N`` runs every case, the idle one
too, with the hint preset and N colour hints per photo (``--hints HINTS.json``): fixed points spread over the
photo, each with the rocket's colour there.

The code measured is whatever ``python -m colorize.cli`` imports, so ``PYTHONPATH=/other/checkout`` measures
another version:

    nice python bench/memory.py [--size 6000x4000] [--folder-size 20] [--zero-png] [--hints 10]

Prints one JSON object on stdout (progress goes to stderr).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HINT_PRESET = "bigru_fusion_64_hints"


def _log(message):
    print(message, file=sys.stderr, flush=True)


def make_inputs(folder, width, height, folder_size, zero_png):
    import shutil

    import numpy as np
    import skimage.data
    from PIL import Image
    folder = Path(folder)
    Image.fromarray(skimage.data.rocket()).resize((64, 64), Image.Resampling.LANCZOS).save(folder / "idle.jpg")
    photo = folder / "photo.jpg"
    Image.fromarray(skimage.data.rocket()).resize((width, height), Image.Resampling.LANCZOS).save(photo, quality=90)
    inputs = {"idle": folder / "idle.jpg", "photo": photo}
    if folder_size:
        inputs["folder"] = folder / "folder"
        inputs["folder"].mkdir()
        for i in range(folder_size):
            shutil.copyfile(photo, inputs["folder"] / f"{i:03d}.jpg")
    if zero_png:
        inputs["zero_png"] = folder / "zero.png"
        Image.fromarray(np.zeros((9000, 9000, 3), np.uint8)).save(inputs["zero_png"], optimize=True)
    return inputs


def write_hints(source, count, folder):
    """A hints file for the input ``source`` (a photo or a folder of them): ``count`` hints for each photo, at
    fixed points spread over it, each the colour of the rocket there."""
    import numpy as np
    import skimage.data
    from PIL import Image
    rocket = skimage.data.rocket()
    points = np.random.default_rng(0).uniform(0.05, 0.95, (count, 2))
    data = {}
    for photo in sorted(source.iterdir()) if source.is_dir() else [source]:
        with Image.open(photo) as im:
            width, height = im.size
        data[photo.name] = [{"x": round(fx * width, 1), "y": round(fy * height, 1), "color": "#%02x%02x%02x" % tuple(
            rocket[int(fy * rocket.shape[0]), int(fx * rocket.shape[1])])} for fx, fy in points]
    path = Path(folder) / f"hints_{source.stem}.json"
    path.write_text(json.dumps(data))
    return path


def peak_rss(args, out):
    """Run ``colorize predict args -o out`` in a fresh process -> (peak RSS in bytes, seconds, exit status, stderr)."""
    command = [sys.executable, "-m", "colorize.cli", "predict", *map(str, args), "-o", str(out), "--quiet"]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        # cwd: not the repository, so that PYTHONPATH decides which colorize runs (python -m puts cwd first)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=Path(out).parent)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return usage.ru_maxrss * 1024, time.perf_counter() - start, process.returncode, stderr


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="6000x4000", help="WIDTHxHEIGHT of the photo (default 6000x4000)")
    parser.add_argument("--folder-size", type=int, default=20, help="photos in the folder (default 20)")
    parser.add_argument("--zero-png", action="store_true", help="also an all-zero 9000x9000 PNG")
    parser.add_argument("--hints", type=int, default=0, metavar="N",
                        help=f"N colour hints per photo, with the {HINT_PRESET} preset (default 0: no hints, the "
                             "shipped preset)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    pixels = width * height
    report = {"benchmark": "peak RSS of colorize predict", "photo_size": f"{width}x{height}",
              "pixels": pixels, "folder_size": args.folder_size, "hints_per_photo": args.hints,
              "preset": HINT_PRESET if args.hints else "default", "pythonpath": os.environ.get("PYTHONPATH", ""),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory(prefix="colorize-memory-") as tmp:
        tmp = Path(tmp)
        _log(f"making inputs in {tmp} ...")
        inputs = make_inputs(tmp, width, height, args.folder_size, args.zero_png)
        runs = {}
        for name, source in inputs.items():
            _log(f"{name} ...")
            options = ["--preset", HINT_PRESET, "--hints", write_hints(source, args.hints, tmp)] if args.hints else []
            rss, seconds, code, stderr = peak_rss([source, *options], tmp / f"out_{name}")
            runs[name] = {"peak_rss_mb": round(rss / 2 ** 20, 1), "seconds": round(seconds, 1), "exit_status": code}
            if code:
                runs[name]["stderr_tail"] = stderr[-400:]
        idle = runs["idle"]["peak_rss_mb"] * 2 ** 20
        for name, count in (("photo", pixels), ("folder", pixels), ("zero_png", 9000 * 9000)):
            if name in runs:
                over = runs[name]["peak_rss_mb"] * 2 ** 20 - idle
                runs[name]["over_idle_mb"] = round(over / 2 ** 20, 1)
                runs[name]["bytes_per_pixel_over_idle"] = round(over / count, 1)  # pixels of one photo
        report["runs"] = runs
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
