"""Colorizing video, stable in time: ``colorize_frames`` for frames from anywhere, ``colorize_video`` for files.

Both run the public pipeline (preprocessor -> network -> postprocessor) on batches of consecutive frames and, in
between, ``colorize.video.temporal.TemporalSmoother`` carries the colour along the motion of the scene, so that the
same scene point keeps its colour from frame to frame; shot cuts start afresh. Colour hints are keyed by frame
number and hold, following the motion, until the next cut or the next keyed frame.

``colorize_video`` streams: a thread decodes (PyAV) while the main thread runs the network and the smoothing on
the previous batch, and another runs the full-resolution finish and the encoder and muxes the sound and subtitle
packets unchanged; queues of a few frames between them keep the memory flat whatever the video's length. The
output appears only when complete (``colorize.io.atomic.writing``).
"""
import collections
import contextlib
import dataclasses
import queue
import sys
import threading
import time
import typing
from pathlib import Path

import numpy as np

from colorize.errors import InputError

DEFAULT_BATCH_SIZE = 8
DEFAULT_CRF = 18
DEFAULT_CODEC = "libx264"
DEFAULT_ENCODER_PRESET = "veryfast"  # x264 medium takes about twice the CPU time per frame
_BATCH_PIXELS = 2 ** 24   # at most this many full-resolution pixels per network batch (4K: 2 frames)
_QUEUE_BYTES = 2 ** 26    # about this much decoded video waits in each queue between threads (4K: 2 frames)
_END = object()


class VideoReport(typing.NamedTuple):
    """What ``colorize_video`` wrote: the file, its frame count, the frames where a new shot starts, the time, and
    (with ``allow_truncated``) why the input ended before its declared end, or None."""
    path: Path
    frames: int
    cuts: tuple
    seconds: float
    ended_early: str = None

    @property
    def fps(self):
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def load_video_hints(path):
    """A hints JSON file for a video: ``{"0": [{"x": 120, "y": 40, "color": "#1f4e9c"}], "250": [...]}`` (frame
    number -> hints, in the frame's pixels) -> ``{0: [...], 250: [...]}``."""
    from colorize.pipeline import load_hints_file
    return _hint_table(load_hints_file(path, keys="frame numbers"), f"hints file {path}")


def _hint_table(hints, what):
    if hints is None:
        return {}
    if isinstance(hints, (str, Path)):
        return load_video_hints(hints)
    if not isinstance(hints, dict):
        raise InputError(f"{what} must map frame numbers to lists of hints, got {type(hints).__name__}")
    table = {}
    for key, value in hints.items():
        try:
            frame = int(key)
            if frame < 0 or (isinstance(key, str) and not key.strip().isdigit()) or isinstance(key, float):
                raise ValueError
        except (TypeError, ValueError):
            raise InputError(f"{what}: key {key!r} is not a frame number (0, 1, 2, ...)") from None
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{what}: frame {frame} must have a list of hints, got {type(value).__name__}")
        table[frame] = list(value)
    return table


def _check_hint_frames(table, frames, name):
    """Hints keyed to frames the video does not have are an error (as ``predict`` refuses a key naming no input):
    a typo in a frame number must not silently do nothing."""
    beyond = sorted(f for f in table if f >= frames)
    if beyond:
        shown = ", ".join(str(f) for f in beyond[:5])
        raise InputError(f"hints for frame{'s' if len(beyond) > 1 else ''} {shown}, but {name} has {frames} frames "
                         f"(0 to {frames - 1}); check the frame numbers of the hints")


def _check_hints(colorizer, table, width=None, height=None, name="video"):
    if any(table.values()) and not colorizer.hints:
        raise InputError(f"hints given for {name}, but the model {colorizer.name!r} takes no hints; use a hint "
                         "preset such as bigru_fusion_64_hints (see colorize.list_presets())")
    if width is not None:
        from colorize.pipeline import parse_hints
        for frame, items in table.items():
            parse_hints(items, height, width, f"{name} frame {frame}")


class _Pipeline:
    """Consecutive frames -> colour frames, a batch at a time; owns the smoother, the hints and the cut list.
    Stabilised frames come out up to the smoother's lookahead later than they go in; ``flush`` at the end."""

    def __init__(self, colorizer, hints, stabilize, strength, cut_threshold, name, on_cut, reference=None):
        from colorize.pipeline import parse_hints
        self.parse_hints = parse_hints
        self.reference = reference  # a prepared colour reference, matched onto every frame
        self.colorizer, self.hints, self.stabilize, self.name, self.on_cut = \
            colorizer, hints, stabilize, name, on_cut
        self.smoother = None
        if stabilize or any(hints.values()):  # hints follow the motion too
            try:
                from colorize.video.temporal import TemporalSmoother
            except ImportError as err:
                raise InputError(f"stable video colours need OpenCV ({err}): pip install 'colorize-photos[video]'") \
                    from None
            self.smoother = TemporalSmoother(strength, cut_threshold)
        self.active, self.cuts, self.index = [], [], 0
        self.waiting = collections.deque()  # (prepared, hints, extra) of frames the smoother holds

    def push(self, rgbs, extras=None):
        """RGB frames (the next ones of the stream; uint8, or float32 in [0, 1]), each with an ``extra`` of the
        caller's -> the frames whose colours are now settled, in order, as ``(finish, extra)``: ``finish()`` gives
        the uint8 RGB frame (the full-resolution step, left to the caller so that it can run in another thread)."""
        c = self.colorizer
        extras = [None] * len(rgbs) if extras is None else extras
        prepared = [c.prepare(rgb, self.name, border=False) for rgb in rgbs]  # frames: letterboxes are no prints
        motions, parsed = [], []
        for p in prepared:
            motion = None
            if self.smoother is not None:
                motion = self.smoother.observe(np.asarray(p.lightness), p.box_height, p.box_width)
                if motion.cut and self.index > 0:
                    self.cuts.append(self.index)
                    if self.on_cut is not None:
                        self.on_cut(self.index)
            keyed = self.index in self.hints
            self.active = self._hints(p, motion, keyed)
            if keyed and motion is not None:  # a new hint is a deliberate change of colour: no averaging across
                motion = dataclasses.replace(motion, cut=True)
            motions.append(motion)
            parsed.append(self.active)
            self.index += 1
        abs_ = c.predict_ab(prepared, parsed, None if self.reference is None else [self.reference] * len(prepared))
        done = []
        for p, ab, motion, h, extra in zip(prepared, abs_, motions, parsed, extras):
            if not self.stabilize:
                done.append(self._settled((p, h, extra), ab))
                continue
            self.waiting.append((p, h, extra))
            done += [self._settled(self.waiting.popleft(), out)
                     for out in self.smoother.push(ab, motion, p.box_height, p.box_width)]
        return done

    def flush(self):
        """The frames still held for their future, at the end of the stream (as ``push`` gives them)."""
        if not self.stabilize:
            return []
        return [self._settled(self.waiting.popleft(), out) for out in self.smoother.flush()]

    def _settled(self, held, ab):
        p, h, extra = held
        return (lambda: self.colorizer.finish(p, ab, h)), extra

    def _hints(self, p, motion, keyed):
        if keyed:
            return self.parse_hints(self.hints[self.index], p.height, p.width,
                                             f"{self.name} frame {self.index}")
        if not self.active or motion is None or motion.cut:
            return []  # hints hold until the next cut
        moved = motion.track([(h.x, h.y) for h in self.active])
        return [dataclasses.replace(h, x=x, y=y) for h, (x, y) in zip(self.active, moved)
                if 0 <= x < p.width and 0 <= y < p.height]


def _batches(items, batch_size):
    """Consecutive lists of items whose frames add up to at most ``batch_size`` frames and about
    ``_BATCH_PIXELS`` pixels (at least one frame)."""
    batch, pixels = [], 0
    for item in items:
        batch.append(item)
        pixels += item[0].shape[0] * item[0].shape[1]
        if len(batch) >= batch_size or pixels >= _BATCH_PIXELS:
            yield batch
            batch, pixels = [], 0
    if batch:
        yield batch


def _check_options(batch_size, strength, cut_threshold):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(strength, (int, float)) or not 0 <= strength < 1:
        raise InputError(f"strength must be in [0, 1) (0: per-frame colours), got {strength!r}")
    if not isinstance(cut_threshold, (int, float)) or not 0 < cut_threshold <= 1:
        raise InputError(f"cut_threshold must be in (0, 1], got {cut_threshold!r}")


def colorize_frames(colorizer, frames, *, hints=None, stabilize=True, strength=None, cut_threshold=None,
                    batch_size=DEFAULT_BATCH_SIZE, on_cut=None, name="frames", reference=None):
    """Colorize a stream of frames, stable in time: a generator of uint8 (H, W, 3) RGB frames, one per input.

    ``frames``: any iterable of images (arrays as ``Colorizer.colorize`` takes them), consecutive frames of a
    video; it is read ``batch_size`` frames ahead, never all at once. ``hints``: ``{frame number: [(x, y, color),
    ...]}`` (or a JSON file's path, see ``load_video_hints``), each list holding until the next shot cut.
    ``stabilize=False`` gives per-frame colorization. ``strength`` (default 0.8) is the share of the colour carried
    along the motion; ``cut_threshold`` (default 0.4) the L-histogram distance that marks a cut; ``on_cut(frame
    number)`` is called for each cut found. ``reference``: a colour photo (a path, an array, or
    ``Colorizer.prepare_reference``'s result; e.g. one frame someone coloured), prepared once and matched onto
    every frame (a hint model)."""
    from colorize.video.temporal import DEFAULT_CUT_THRESHOLD, DEFAULT_STRENGTH
    strength = DEFAULT_STRENGTH if strength is None else strength
    cut_threshold = DEFAULT_CUT_THRESHOLD if cut_threshold is None else cut_threshold
    _check_options(batch_size, strength, cut_threshold)
    table = _hint_table(hints, "hints")
    _check_hints(colorizer, table, name=name)
    reference = None if reference is None else colorizer.prepare_reference(reference)
    pipeline = _Pipeline(colorizer, table, stabilize, strength, cut_threshold, name, on_cut, reference=reference)
    # uint8 frames stay uint8 (the preprocessor takes them as they are): a quarter of float32's memory
    loaded = ((colorizer.preprocessor.decode(frame, name=f"{name} frame {i}"),) for i, frame in enumerate(frames))
    for batch in _batches(loaded, batch_size):
        for finish, _ in pipeline.push([item[0] for item in batch]):
            yield finish()
    _check_hint_frames(table, pipeline.index, name)
    for finish, _ in pipeline.flush():
        yield finish()


def colorize_video(colorizer, src, dst, *, overwrite=False, codec=DEFAULT_CODEC, crf=DEFAULT_CRF,
                   encoder_preset=DEFAULT_ENCODER_PRESET, hints=None, stabilize=True, strength=None, cut_threshold=None,
                   batch_size=DEFAULT_BATCH_SIZE, progress=False, allow_truncated=False, reference=None):
    """Colorize the video file ``src`` into ``dst`` (format from its suffix: .mp4, .mkv, .mov) -> ``VideoReport``.

    Same size, frame rate and timing, frame count and rotation; audio and subtitle streams copied without
    re-encoding; video encoded with ``codec`` (default libx264) at ``crf`` (default 18), x264/x265 speed
    ``encoder_preset`` (default veryfast).
    ``dst`` appears only when complete and is never replaced unless ``overwrite``. ``hints``, ``stabilize``,
    ``strength``, ``cut_threshold``, ``batch_size``, ``reference``: as ``colorize_frames``. ``progress``: a tqdm
    bar on stderr.
    Unusable input raises ``InputError`` naming the file; so does one that ends before its container's declared
    end (cut off), unless ``allow_truncated``: then the frames it has are written, and the report says why.
    Temporary files that killed runs left beside ``dst`` are removed first."""
    from colorize.io import clean_stale, writing
    from colorize.video.io import X264_PRESETS, VideoSink, VideoSource, require_av
    from colorize.video.temporal import DEFAULT_CUT_THRESHOLD, DEFAULT_STRENGTH
    require_av()
    strength = DEFAULT_STRENGTH if strength is None else strength
    cut_threshold = DEFAULT_CUT_THRESHOLD if cut_threshold is None else cut_threshold
    _check_options(batch_size, strength, cut_threshold)
    if crf is not None and (isinstance(crf, bool) or not isinstance(crf, (int, float)) or not 0 <= crf <= 63):
        raise InputError(f"crf must be a number from 0 (lossless) to 51 (63 for VP9/AV1), got {crf!r}")
    if codec in ("libx264", "libx265") and encoder_preset and encoder_preset not in X264_PRESETS:
        raise InputError(f"--encoder-preset {encoder_preset!r} is not an x264/x265 preset; use one of "
                         f"{', '.join(X264_PRESETS)}")
    table = _hint_table(hints, "hints")
    _check_hints(colorizer, table, name=str(src))
    reference = None if reference is None else colorizer.prepare_reference(reference)  # once, before any frame
    dst = Path(dst)
    if dst.is_dir():
        raise InputError(f"{dst} is a directory; pass an output file name such as out.mp4")
    if dst.exists() and Path(src).exists() and dst.samefile(src):
        raise InputError(f"{dst} is the input video; write the colour video to another file")
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        source = VideoSource(src, allow_truncated)  # input problems are input errors, never "cannot write"
        stack.callback(source.close)
        _check_hints(colorizer, table, source.width, source.height, str(src))
        if source.frames and not allow_truncated:
            _check_hint_frames(table, source.frames, str(src))  # before any work, where the container counts
        clean_stale(dst.parent)  # a killed run's full-size temporary video
        tmp = stack.enter_context(writing(dst, overwrite, suffix=dst.suffix))  # the suffix names the format
        sink = VideoSink(tmp, source, codec, crf, encoder_preset)
        stack.callback(sink.abort)
        pipeline = _Pipeline(colorizer, table, stabilize, strength, cut_threshold, str(src), None,
                             reference=reference)
        frames = _run_threads(source, sink, pipeline, colorizer, batch_size, progress, str(src), table)
    return VideoReport(dst, frames, tuple(pipeline.cuts), time.perf_counter() - started, source.ended_early)


def _run_threads(source, sink, pipeline, colorizer, batch_size, progress, name, table):
    """Decode thread -> this thread (network, smoothing) -> finish-and-encode thread, through short queues."""
    from tqdm import tqdm
    stop = threading.Event()
    frame_bytes = 3 * source.width * source.height
    depth = max(2, min(2 * batch_size, _QUEUE_BYTES // frame_bytes))
    decoded, finished = queue.Queue(maxsize=depth), queue.Queue(maxsize=depth)
    failures, trailing = [], []

    def decode():
        try:
            for item in source.read():
                if not _put(decoded, item, stop):
                    return
            _put(decoded, _END, stop)
        except BaseException as err:  # handed to the main thread, which raises it
            failures.append(err)
            stop.set()

    def encode():
        try:
            while True:
                item = _get(finished, stop)
                if item is None:
                    return
                if item is _END:
                    sink.close()
                    return
                finish, (pts, packets) = item
                sink.write(finish() if finish is not None else None, pts, packets)
        except BaseException as err:
            failures.append(err)
            stop.set()

    def frames():
        while True:
            item = _get(decoded, stop)
            if item is None:  # stopped: a thread failed
                raise failures[0] if failures else InputError(f"{name}: stopped")
            if item is _END:
                return
            if item[0] is None:
                trailing.extend(item[2])
            else:
                yield item

    threads = [threading.Thread(target=decode, name="colorize-decode", daemon=True),
               threading.Thread(target=encode, name="colorize-encode", daemon=True)]
    for t in threads:
        t.start()
    count = 0
    try:
        with tqdm(total=source.expected_frames or None, unit="frame", disable=not progress, file=sys.stderr,
                  dynamic_ncols=True) as bar:
            def hand_over(done):
                for item in done:  # the encode thread runs the full-resolution finish: it overlaps the network
                    if not _put(finished, item, stop):
                        raise failures[0] if failures else InputError(f"{name}: stopped")
                bar.update(len(done))
                return len(done)

            for batch in _batches(frames(), batch_size):  # decoded uint8 RGB: the preprocessor takes it as it is
                count += hand_over(pipeline.push([rgb for rgb, _, _ in batch],
                                                 [(pts, packets) for _, pts, packets in batch]))
            if source.ended_early is None:  # before the output is finished: it is not written
                _check_hint_frames(table, pipeline.index, name)
            count += hand_over(pipeline.flush())
            for item in ((None, (None, trailing)), _END):
                if not _put(finished, item, stop):
                    raise failures[0] if failures else InputError(f"{name}: stopped")
            threads[1].join()
            if failures:
                raise failures[0]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    return count


def _put(q, item, stop):
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q, stop):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return None

