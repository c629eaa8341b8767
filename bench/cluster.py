"""``colorize predict --ray local`` against plain ``colorize predict`` on one machine: what Ray costs where there is
nothing to gain.

The same folder of ``--photos`` greyscale photos (default 200, 768x512 JPEGs cut from scikit-image's photos) goes
through plain ``predict`` and through ``predict --ray local`` with 1 and with 2 actors, interleaved (plain, 1
actor, 2 actors; ``--rounds`` times), each a fresh ``python -m colorize.cli`` process writing into an empty folder.
For each run:

- ``photos_per_s``: the steady rate, from the output files' modification times (photos after the first / time
  from the first output to the last), which leaves out start-up;
- ``startup_s``: from the command's start to its first output (TensorFlow, the model, and for Ray the local
  instance and its actors);
- ``total_s``: the whole command;
- ``peak_rss_mb``: plain predict's peak resident memory (``os.wait4``); for Ray, each actor's peak (``VmHWM`` of
  the ``MapWorker`` processes, read while the run goes) and the driver's.

``ratio`` is the median Ray rate over the median plain rate (target: at least 0.85 with the default actor count,
which on a 2-CPU machine is 1). The code measured is whatever ``python -m colorize.cli`` imports.

    nice python bench/cluster.py [--photos 200] [--rounds 2] [--size 768x512]

Prints one JSON object on stdout (progress goes to stderr).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _log(message):
    print(message, file=sys.stderr, flush=True)


def make_photos(folder, count, width, height):
    """``count`` different greyscale crops of scikit-image's photos, resized to ``width`` x ``height``."""
    import skimage.data
    from PIL import Image
    names = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
    sources = [getattr(skimage.data, name)() for name in names]
    folder.mkdir(parents=True)
    for i in range(count):
        image = Image.fromarray(sources[i % len(sources)][..., :3])
        w, h = image.size
        dx, dy = (i * 7) % (w // 4), (i * 5) % (h // 4)
        image.crop((dx, dy, dx + 3 * w // 4, dy + 3 * h // 4)).resize((width, height)).convert("L").save(
            folder / f"photo{i:04d}.jpg", quality=90)
    return folder


def _session(sid):
    """PIDs of the live processes of session ``sid`` (the run's command and all it started: Ray's local instance
    and its actors keep the session)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if entry.isdigit() and int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def _actor_peaks(sid, stop, peaks):
    """Poll the run's MapWorker processes (Ray's actors) and keep each one's peak resident memory (VmHWM, kB)."""
    while not stop.is_set():
        for pid in _session(sid):
            try:
                if b"MapWorker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
        stop.wait(0.5)


def run(inputs, out, extra):
    command = [sys.executable, "-m", "colorize.cli", "predict", str(inputs), "-o", str(out), "--quiet", *extra]
    peaks, stop = {}, threading.Event()
    start_wall, start = time.time(), time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    watcher = threading.Thread(target=_actor_peaks, args=(process.pid, stop, peaks), daemon=True)
    watcher.start()
    _, status, usage = os.wait4(process.pid, 0)
    total = time.monotonic() - start
    stop.set()
    watcher.join()
    deadline = time.monotonic() + 60  # Ray's processes may outlive the command a moment: not into the next run
    while _session(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    times = sorted(p.stat().st_mtime for p in Path(out).rglob("*.png"))
    return {"photos": len(times), "photos_per_s": round((len(times) - 1) / (times[-1] - times[0]), 2),
            "startup_s": round(times[0] - start_wall, 1), "total_s": round(total, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "actor_peak_rss_mb": [round(v / 1024) for v in
                                                                                 sorted(peaks.values())],
            "summary": stdout.strip().splitlines()[-1].split(" -> ")[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", default="768x512", help="width x height of the photos")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    setups = {"plain": [], "ray_1_actor": ["--ray", "local", "--ray-actors", "1"],
              "ray_2_actors": ["--ray", "local", "--ray-actors", "2"]}
    results = {name: [] for name in setups}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_photos(Path(tmp) / "in", args.photos, width, height)
        for round_ in range(args.rounds):
            for name, extra in setups.items():
                _log(f"round {round_ + 1}: {name}")
                results[name].append(run(inputs, Path(tmp) / f"{name}-{round_}", extra))
                _log(f"  {results[name][-1]}")
    rate = {name: round(statistics.median(r["photos_per_s"] for r in runs), 2) for name, runs in results.items()}
    print(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": [round(x, 1) for x in os.getloadavg()]},
        "photos": args.photos, "size": args.size, "rounds": args.rounds,
        "photos_per_s": rate,
        "ratio_ray_1_actor_to_plain": round(rate["ray_1_actor"] / rate["plain"], 3),
        "ratio_ray_2_actors_to_plain": round(rate["ray_2_actors"] / rate["plain"], 3),
        "startup_s": {name: [r["startup_s"] for r in runs] for name, runs in results.items()},
        "runs": results,
    }, indent=1))


if __name__ == "__main__":
    main()
