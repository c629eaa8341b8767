"""Latency of ``colorize serve`` as the page sees it: POST /api/colorize of a 1024x768 JPEG, until the PNG is in.

Starts the real command (``colorize serve --port 0``) in a subprocess and talks to it over loopback with one
keep-alive connection, as the browser does:

* first: the server's very first request (TensorFlow traces its functions), alone.
* cold: ``--runs`` requests, each with a photo the server has not seen (the same picture with a different
  random 8x8 patch, so the bytes differ): upload, decode, prepare, network, finish, PNG.
* warm: ``--runs`` requests of one photo already sent, each with a different hint (a click on the page):
  the server finds the prepared photo in its cache and runs only the network and the full-resolution finish.
  With a model that takes no hints, the same photo without hints.
* full_resolution_download: one more request without a preview, as the page's Download PNG sends it.

Each request asks for a preview as the page does (``preview_side`` of ``/api/info``, or ``--preview``): photos
larger than that come back that size while they are steered. The default 1024x768 photo is smaller than the
default preview side, so there every request is at full resolution.

``--config configs/X.yaml`` serves that architecture with random weights instead of a preset (timing does not
depend on the weights): the hint path can be timed before a hint preset ships.

Median and p90 in milliseconds of the client's wall time, the server's own stage times (its ``Server-Timing``
header: prepare, colorize, png), and the server process's CPU time per request. The machine's load average is
printed beside them: on a shared machine the wall times grow with it, the CPU time does not.

    python bench/serve_latency.py [--preset NAME | --config configs/tiny_imagenet_64_hints.yaml] [--runs 20]

Prints one JSON object on stdout (progress goes to stderr).
"""
import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests
from PIL import Image


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _photo(width, height):
    import skimage.data
    return np.asarray(Image.fromarray(skimage.data.coffee()).resize((width, height), Image.LANCZOS))


def _jpeg(rgb):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _server_timing(header):
    """``prepare;dur=1.0, colorize;dur=2.0`` -> {"prepare": 1.0, "colorize": 2.0}."""
    stages = {}
    for item in header.split(","):
        name, _, duration = item.strip().partition(";dur=")
        stages[name] = float(duration)
    return stages


def _summary(times_ms, stages):
    times = np.asarray(times_ms)
    out = {"n": len(times), "median_ms": round(float(np.median(times)), 1),
           "p90_ms": round(float(np.percentile(times, 90)), 1), "min_ms": round(float(times.min()), 1)}
    out["server_median_ms"] = {k: round(float(np.median([s[k] for s in stages])), 1) for k in stages[0]}
    return out


def _request(session, url, data, hints=None, preview=None):
    fields = {"hints": (None, json.dumps(hints))} if hints else {}
    if preview:
        fields["preview"] = (None, str(preview))
    start = time.perf_counter()
    response = session.post(url + "api/colorize", files={"image": ("photo.jpg", data), **fields}, timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"serve_latency: the server answered {response.status_code}: {response.text}")
    return elapsed, _server_timing(response.headers["server-timing"]), response.headers["x-photo-cached"] == "1"


def _random_weights(config_path, folder):
    """``--weights/--config/--sha256`` arguments serving the architecture of ``config_path`` with random weights."""
    from colorize import build_model, load_config
    from colorize.model.weights import sha256_of
    path = os.path.join(folder, "random.weights.h5")
    build_model(load_config(config_path).model).save_weights(path)
    return ["--weights", path, "--config", config_path, "--sha256", sha256_of(path)]


def _cpu_s(pid):
    """CPU seconds (user + system) the process has used so far; None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _start_server(model_args):
    command = [sys.executable, "-m", "colorize.cli", "serve", "--port", "0"] + model_args
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("colorize serve: http://"):
        process.kill()
        raise SystemExit(f"serve_latency: colorize serve did not start ({line.strip() or 'no output'})")
    return process, line.split()[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", help="the model to serve (default: colorize serve's default)")
    parser.add_argument("--config", help="serve this YAML config's architecture with random weights instead")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", default="1024x768", help="WIDTHxHEIGHT of the photo")
    parser.add_argument("--preview", type=int, help="the preview side sent with each request (default: the "
                        "server's preview_side, as the page sends; it applies to photos larger than that)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(0)
    base = _photo(width, height)
    load_before = os.getloadavg()
    workdir = tempfile.TemporaryDirectory()
    model_args = (_random_weights(args.config, workdir.name) if args.config else
                  ["--preset", args.preset] if args.preset else [])
    process, url = _start_server(model_args)
    try:
        session = requests.Session()
        info = session.get(url + "api/info", timeout=30).json()
        _log(f"serving {info['preset']} (hints: {info['hints']}) at {url}")
        preview = info["preview_side"] if args.preview is None else args.preview
        send = lambda data, hints=None: _request(session, url, data, hints, preview)  # noqa: E731

        def fresh_photo():
            photo = base.copy()
            y, x = rng.integers(0, height - 8), rng.integers(0, width - 8)
            photo[y:y + 8, x:x + 8] = rng.integers(0, 256, (8, 8, 3))
            return _jpeg(photo)

        first_ms, first_stages, _ = send(fresh_photo())
        _log(f"first request: {first_ms:.0f} ms")
        cpu = [_cpu_s(process.pid)]
        cold = [send(fresh_photo()) for _ in range(args.runs)]
        cpu.append(_cpu_s(process.pid))
        warm_photo = fresh_photo()
        send(warm_photo)  # the photo is now prepared and cached, as after the page's first result

        def click():
            if not info["hints"]:
                return None
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            return [{"x": float(x), "y": float(y), "color": "#%02x%02x%02x" % tuple(rng.integers(0, 256, 3))}]

        send(warm_photo, click())  # the first hinted request may trace once more
        cpu.append(_cpu_s(process.pid))
        warm = [send(warm_photo, click()) for _ in range(args.runs)]
        cpu.append(_cpu_s(process.pid))
        full_ms, full_stages, _ = _request(session, url, warm_photo, click())  # the download: full resolution
        if not all(cached for *_, cached in warm):
            raise SystemExit("serve_latency: a warm request was not served from the cache")
    finally:
        process.terminate()
        process.wait(timeout=30)
        workdir.cleanup()
    result = {
        "benchmark": "serve_latency", "photo": f"{width}x{height} JPEG q90, {len(warm_photo):,} bytes",
        "preview_side": preview if preview and max(width, height) > preview else None,
        "model": f"{args.config}, random weights" if args.config else info["preset"], "hints": info["hints"],
        "warm_request": "same photo, a new hint each" if info["hints"] else "same photo (model takes no hints)",
        "first_request_ms": round(first_ms, 1), "first_request_server_ms": first_stages,
        "cold": _summary(*zip(*[(t, s) for t, s, _ in cold])),
        "warm": _summary(*zip(*[(t, s) for t, s, _ in warm])),
        # The server's CPU time per request does not depend on what else runs on the machine: on an idle machine
        # a request takes about this long or less (TensorFlow and the PNG encoder use both cores).
        "server_cpu_ms_per_request": None if None in cpu else {
            "cold": round((cpu[1] - cpu[0]) * 1000 / args.runs, 1),
            "warm": round((cpu[3] - cpu[2]) * 1000 / args.runs, 1)},
        "full_resolution_download_ms": round(full_ms, 1), "full_resolution_download_server_ms": full_stages,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "load_average_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
