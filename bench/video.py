"""Video colorization: stability in time, accuracy, shot cuts, speed and memory, against per-frame colorization.

Clips are made from real colour photos (scikit-image's, and ``../shared/data/dev_photos`` when present) by moving
a 16:9 window over them with a known camera motion (pans, a zoom in, a zoom out), so that the true colour of every
scene point in every frame is known. Each clip is colorized twice with ``colorize.video.frames.colorize_frames``: per
frame (``stabilize=False``, the baseline) and stabilised (the default), from the frames' lightness only (the
colour frames go in; the pipeline reads their L).

* flicker: the mean ab change (Lab units) of the same scene point between consecutive output frames: frame t-1 is
  sampled where frame t's pixels were, by the known motion, over the pixels seen in both. ``truth`` is the same
  measure on the true frames (what resampling alone gives); ``ratio`` is stabilised / per-frame.
* accuracy: PSNR (dB, RGB) and AuC (ab error) of each frame against the true frame (``colorize.evaluation.metrics``),
  averaged over frames and clips.
* cuts: two-shot clips (a pan over one photo, then over another): the cut must be found at the right frame and
  nowhere in the one-shot clips, and no colour may cross it: each shot must come out exactly as it does when
  colorized alone (``max_diff_from_shots_alone``, in 8-bit RGB levels, must be 0).
* speed: frames/s end to end (H.264 file with AAC sound in, decode -> colorize -> encode with libx264 CRF 18 ->
  file out) at 640x360 and 1280x720, per-frame and stabilised in the same run (each twice, the faster kept),
  with the machine's load average, and the CPU time per frame (all threads), which depends little on the load.
* memory: peak RSS of ``colorize_video`` in a fresh process, for clips of several lengths.

    python bench/video.py [--frames 40] [--photos 8] [--speed-frames 240] [--rss-lengths 100,400,1200]
    python bench/video.py --quick      # a minute-long smoke run

Prints one JSON object on stdout (progress goes to stderr).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

DEV_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dev_photos"
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
SIZE = (320, 180)  # width x height of the quality clips (the network sees 64 px whatever the size)
MOTIONS = ("pan", "pan_diagonal", "zoom_in", "zoom_out")


def _log(message):
    print(message, file=sys.stderr, flush=True)


def photos(limit):
    """(name, float32 RGB) of the photos to make clips from; dev photos are skipped when absent."""
    import skimage.data
    found = [(name, getattr(skimage.data, name)()[..., :3]) for name in SKIMAGE_PHOTOS]
    if DEV_PHOTOS.is_dir():
        from PIL import Image
        for path in sorted(DEV_PHOTOS.glob("*.jpg"))[:max(0, limit - len(found))]:
            with Image.open(path) as im:
                found.append((f"dev/{path.name}", np.asarray(im.convert("RGB"))))
    else:
        _log(f"{DEV_PHOTOS} is absent: scikit-image's photos only")
    return [(name, (rgb.astype(np.float32) / 255.0)) for name, rgb in found[:limit]]


def camera_path(shape, motion, frames, size=SIZE):
    """Per frame, the affine map (2x3) from output pixels to photo pixels of a ``motion`` over a photo."""
    ph, pw = shape[:2]
    w, h = size
    # The widest 16:9 window that fits, then a smaller one so that there is room to move.
    full = min(pw / w, ph / h)
    paths = []
    for t in np.linspace(0.0, 1.0, frames):
        if motion == "pan":
            s = 0.7 * full
            x0, y0 = t * (pw - s * w), (ph - s * h) / 2
        elif motion == "pan_diagonal":
            s = 0.75 * full
            x0, y0 = (1 - t) * (pw - s * w), t * (ph - s * h)
        else:
            z = t if motion == "zoom_in" else 1 - t
            s = full * (0.95 - 0.4 * z)  # the window shrinks to 58% of its width: a 1.6x zoom
            x0, y0 = (pw - s * w) / 2, (ph - s * h) / 2
        paths.append(np.float32([[s, 0, x0], [0, s, y0]]))
    return paths


def render(photo, paths, size=SIZE):
    return list(rendered(photo, paths, size))


def rendered(photo, paths, size=SIZE):
    """The frames of a camera path over ``photo``, one at a time (long clips are never all in memory)."""
    import cv2
    for m in paths:
        yield cv2.warpAffine(photo, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT)


def flicker(frames_ab, paths, size=SIZE):
    """Mean |ab(t) - ab(t-1) at the same scene point| over consecutive frames, by the known camera path."""
    import cv2
    w, h = size
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    values = []
    for t in range(1, len(frames_ab)):
        a, b = paths[t], paths[t - 1]
        # output pixel of frame t -> photo -> output pixel of frame t-1
        px, py = a[0, 0] * gx + a[0, 2], a[1, 1] * gy + a[1, 2]
        qx, qy = (px - b[0, 2]) / b[0, 0], (py - b[1, 2]) / b[1, 1]
        inside = (qx >= 0) & (qx <= w - 1) & (qy >= 0) & (qy <= h - 1)
        prev = cv2.remap(frames_ab[t - 1], qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        values.append(float(np.linalg.norm(frames_ab[t] - prev, axis=-1)[inside].mean()))
    return float(np.mean(values))


def lab_ab(frames):
    import colorize
    return [colorize.rgb_to_lab(np.asarray(f, np.float32) / (255.0 if f.dtype == np.uint8 else 1.0)).numpy()[..., 1:]
            for f in frames]


def accuracy(outputs, truths):
    """Mean PSNR and AuC over the frames (one frame at a time: AuC's thresholds make a large tensor)."""
    from colorize.evaluation import metrics
    scores = [(float(metrics.psnr(pred.astype(np.float32) / 255.0, truth)),
               float(metrics.auc(pred.astype(np.float32) / 255.0, truth))) for pred, truth in zip(outputs, truths)]
    return tuple(np.mean(scores, axis=0).tolist())


def run_clip(colorizer, frames, **kw):
    from colorize.video.frames import colorize_frames
    cuts = []
    out = list(colorize_frames(colorizer, frames, on_cut=cuts.append, **kw))
    return out, cuts


def quality(colorizer, photo_list, frames):
    rows, cut_rows = [], []
    for name, photo in photo_list:
        for motion in MOTIONS:
            paths = camera_path(photo.shape, motion, frames)
            truth = render(photo, paths)  # colorized from their lightness alone, so L is the truth's
            per_frame, _ = run_clip(colorizer, truth, stabilize=False)
            stable, cuts = run_clip(colorizer, truth)
            f_truth = flicker(lab_ab(truth), paths)
            f_base, f_ours = flicker(lab_ab(per_frame), paths), flicker(lab_ab(stable), paths)
            (p_base, a_base), (p_ours, a_ours) = accuracy(per_frame, truth), accuracy(stable, truth)
            rows.append({"clip": f"{name}:{motion}", "flicker_truth": f_truth, "flicker_per_frame": f_base,
                         "flicker_stable": f_ours, "psnr_per_frame": p_base, "psnr_stable": p_ours,
                         "auc_per_frame": a_base, "auc_stable": a_ours, "false_cuts": cuts})
            _log(f"{name}:{motion}: flicker {f_base:.3f} -> {f_ours:.3f} (truth {f_truth:.3f}), "
                 f"PSNR {p_base:.3f} -> {p_ours:.3f}, cuts {cuts}")
    # Two-shot clips: photo i panned, then photo i+1 panned.
    for (name_a, a), (name_b, b) in zip(photo_list, photo_list[1:] + photo_list[:1]):
        half = frames // 2
        clip = render(a, camera_path(a.shape, "pan", half)) + render(b, camera_path(b.shape, "pan", half))
        stable, cuts = run_clip(colorizer, clip)
        # Nothing crosses the cut: each shot must come out exactly as it does when colorized alone.
        alone = run_clip(colorizer, clip[:half])[0] + run_clip(colorizer, clip[half:])[0]
        carry = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(stable, alone))
        cut_rows.append({"clip": f"{name_a}|{name_b}", "cut_at": half, "cuts_found": cuts,
                         "max_diff_from_shots_alone": carry})
        _log(f"cut {name_a}|{name_b}: expected {half}, found {cuts}, max diff from the shots alone {carry}")
    return rows, cut_rows


def summarise(rows, cut_rows):
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    by_motion = {}
    for motion in MOTIONS:
        sel = [r for r in rows if r["clip"].endswith(":" + motion)]
        by_motion[motion] = {
            "flicker_ratio": float(np.mean([r["flicker_stable"] for r in sel]) /
                                   np.mean([r["flicker_per_frame"] for r in sel])),
            "psnr_delta": float(np.mean([r["psnr_stable"] - r["psnr_per_frame"] for r in sel]))}
    return {
        "clips": len(rows),
        "flicker": {"truth": mean("flicker_truth"), "per_frame": mean("flicker_per_frame"),
                    "stable": mean("flicker_stable"),
                    "ratio": mean("flicker_stable") / mean("flicker_per_frame"),
                    "worst_clip_ratio": max(r["flicker_stable"] / r["flicker_per_frame"] for r in rows)},
        "psnr": {"per_frame": mean("psnr_per_frame"), "stable": mean("psnr_stable"),
                 "delta": mean("psnr_stable") - mean("psnr_per_frame"),
                 "worst_clip_delta": min(r["psnr_stable"] - r["psnr_per_frame"] for r in rows)},
        "auc": {"per_frame": mean("auc_per_frame"), "stable": mean("auc_stable"),
                "delta": mean("auc_stable") - mean("auc_per_frame")},
        "by_motion": by_motion,
        "cuts": {"two_shot_clips": len(cut_rows),
                 "found_exactly": sum(r["cuts_found"] == [r["cut_at"]] for r in cut_rows),
                 "false_cuts_in_one_shot_clips": sum(len(r["false_cuts"]) for r in rows),
                 "max_diff_from_shots_alone": max(r["max_diff_from_shots_alone"] for r in cut_rows)},
    }


def write_clip(path, photo, frames, size, audio=True):
    """An H.264 (CRF 18) MP4 of a pan over ``photo``, with a sine tone as AAC sound."""
    import av
    paths = camera_path(photo.shape, "pan", frames, size)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.codec_context.options = {"crf": "18"}
        sound = out.add_stream("aac", rate=48000) if audio else None
        for i, frame in enumerate(rendered(photo, paths, size)):
            grey = (np.mean(frame, axis=-1) * 255 + 0.5).astype(np.uint8)
            vf = av.VideoFrame.from_ndarray(np.repeat(grey[..., None], 3, axis=-1), format="rgb24")
            vf.pts = i
            out.mux(video.encode(vf))
            if sound is not None:
                t = (np.arange(1920) + i * 1920) / 48000
                af = av.AudioFrame.from_ndarray((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None],
                                                format="fltp", layout="mono")
                af.sample_rate, af.pts = 48000, i * 1920
                out.mux(sound.encode(af))
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))


def speed(colorizer, photo, frames, sizes, folder):
    from colorize.video.frames import colorize_video
    result = {}
    for w, h in sizes:
        src = Path(folder) / f"speed_{w}x{h}.mp4"
        write_clip(src, photo, frames, (w, h))
        row = {}
        for label, stabilize in (("per_frame", False), ("stable", True), ("per_frame_again", False),
                                 ("stable_again", True)):
            before, cpu = os.getloadavg()[0], _cpu_seconds()
            report = colorize_video(colorizer, src, Path(folder) / f"out_{label}.mp4", overwrite=True,
                                    stabilize=stabilize)
            row[label] = {"fps": report.frames / report.seconds, "frames": report.frames,
                          "cpu_ms_per_frame": (_cpu_seconds() - cpu) / report.frames * 1000,
                          "load_before": before, "load_after": os.getloadavg()[0]}
            _log(f"speed {w}x{h} {label}: {row[label]['fps']:.1f} frames/s (load {before:.2f})")
        best = lambda label: max(row[label], row[label + "_again"], key=lambda r: r["fps"])  # noqa: E731
        result[f"{w}x{h}"] = {"per_frame_fps": best("per_frame")["fps"], "stable_fps": best("stable")["fps"],
                              "per_frame_cpu_ms_per_frame": best("per_frame")["cpu_ms_per_frame"],
                              "stable_cpu_ms_per_frame": best("stable")["cpu_ms_per_frame"], "runs": row}
    return result


def _cpu_seconds():
    """CPU time of this process, all threads (TensorFlow's, FFmpeg's), user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The child reads its peak from /proc (VmHWM): on Linux, ru_maxrss survives exec, so a child of this large process
# would report this process's peak as its own.
_RSS_CHILD = """
import re, resource, sys, colorize
from colorize.video.frames import colorize_video
report = colorize_video(colorize.load_pretrained(), sys.argv[1], sys.argv[2], overwrite=True)
try:
    with open("/proc/self/status") as f:
        kib = int(re.search(r"VmHWM:\\s*(\\d+)", f.read()).group(1))
except OSError:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(report.frames, kib)
"""


def memory(photo, lengths, folder):
    rows = []
    for n in lengths:
        src = Path(folder) / f"rss_{n}.mp4"
        write_clip(src, photo, n, (640, 360))
        done = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(src), str(Path(folder) / "rss_out.mp4")],
                              capture_output=True, text=True, check=True)
        frames, kib = map(int, done.stdout.split()[-2:])
        rows.append({"frames": frames, "peak_rss_mib": kib / 1024})
        _log(f"memory: {frames} frames, peak RSS {kib / 1024:.0f} MiB")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per quality clip")
    parser.add_argument("--photos", type=int, default=8, help="photos to make clips from (skimage's first)")
    parser.add_argument("--speed-frames", type=int, default=240)
    parser.add_argument("--rss-lengths", default="100,400,1200")
    parser.add_argument("--parts", default="quality,speed,memory", help="which measurements to run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 photos, short clips")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.photos, args.speed_frames, args.rss_lengths = 16, 2, 48, "30,90"
    import colorize
    colorizer = colorize.load_pretrained()
    photo_list = photos(args.photos)
    parts = set(args.parts.split(","))
    started = time.time()
    result = {"model": colorizer.name, "photos": [n for n, _ in photo_list]}
    if "quality" in parts:
        rows, cut_rows = quality(colorizer, photo_list, args.frames)
        result.update({"frames_per_clip": args.frames, "clip_size": f"{SIZE[0]}x{SIZE[1]}",
                       "motions": list(MOTIONS), **summarise(rows, cut_rows)})
    with tempfile.TemporaryDirectory() as folder:
        if "speed" in parts:
            result["speed"] = speed(colorizer, photo_list[0][1], args.speed_frames, [(640, 360), (1280, 720)],
                                    folder)
        if "memory" in parts:
            result["memory"] = {"clip_size": "640x360", "runs": memory(
                photo_list[0][1], [int(n) for n in args.rss_lengths.split(",")], folder)}
    result["machine"] = {"cpus": os.cpu_count(), "load_average_end": os.getloadavg(),
                         "bench_seconds": time.time() - started,
                         "peak_rss_mib_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if "quality" in parts:
        result["per_clip"], result["per_cut_clip"] = rows, cut_rows
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
