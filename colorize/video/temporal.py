"""Stability in time: the network's ab, frame after frame, averaged along the motion of the scene.

Each frame is coloured by the network on its own; left like that, tints jump and regions change colour from one
frame to the next (the flicker that per-frame video colorizers are known for). ``TemporalSmoother`` replaces each
frame's ab (at the network's resolution) by a weighted average of the ab the network gave the same scene points
in the neighbouring frames, before and after it, the weight falling by ``strength`` per frame:

1. ``observe``: the motion from the previous frame (OpenCV's DIS optical flow on the frames' L at twice the
   network's resolution), how well each pixel is explained by the other frame once moved (L residual, and
   whether it came from inside the picture), and whether a shot cut happened (L histograms far apart, or too
   little of the frame explained by the previous one);
2. ``push``: a forward running average (the past, warped along the motion) and, once ``lookahead`` more frames
   have arrived, a backward one (the future), combined with the frame's own ab. A pixel the neighbouring frames
   cannot explain (newly revealed, occluded, changed) keeps the network's own colour; a cut ends both averages.

Averaging both sides keeps a slow change of the network's colours (a zoom, a pan into a new scene) centred on
the frame instead of lagging behind it; the price is ``lookahead`` frames of latency. Everything here runs on
images of about 128 x 72 pixels, whatever the video's size.
"""
import collections
import dataclasses

import cv2
import numpy as np

DEFAULT_STRENGTH = 0.8        # weight ratio of a frame's neighbour to the frame, where the motion explains it
DEFAULT_CUT_THRESHOLD = 0.4   # total-variation distance of the L histograms of two frames that marks a cut
DEFAULT_LOOKAHEAD = 8         # future frames averaged in (strength ** 8 = 0.17: the rest would add little)
FLOW_SCALE = 2                # the flow is computed on L at this multiple of the network's box
MIN_FLOW_SIDE = 16            # DIS needs a few 8-pixel patches along each side
RESIDUAL_SIGMA = 6.0          # Lab L units: a pixel whose moved L is off by this much keeps e^-1 of the weight
MIN_EXPLAINED = 0.25          # less than this share of a frame explained by the previous one counts as a cut
_HIST_BINS = 32


@dataclasses.dataclass
class Motion:
    """From the previous frame to this one: ``cut``, and (no cut) on the network's box: ``flow`` (for each pixel
    of this frame, its offset to where it was in the previous one, in box pixels), ``confidence`` (this frame's
    pixels explained by the previous frame, 0-1) and ``back_confidence`` (the previous frame's pixels explained by
    this one); ``fine_flow`` is the flow at flow resolution and ``fine_scale`` ((sx, sy)) the scale from
    full-resolution pixels to it, for tracking points."""
    cut: bool
    histogram_distance: float
    explained: float = 0.0
    flow: np.ndarray = None
    confidence: np.ndarray = None
    back_confidence: np.ndarray = None
    fine_flow: np.ndarray = None
    fine_scale: tuple = (1.0, 1.0)

    def track(self, points):
        """Points (x, y) of the previous frame, full-resolution pixels -> where they are in this frame."""
        if self.cut or self.fine_flow is None:
            return list(points)
        sx, sy = self.fine_scale
        h, w = self.fine_flow.shape[:2]
        moved = []
        for x, y in points:
            # The backward flow at a point approximates the forward flow there, negated (smooth motion).
            col, row = min(max(int(x * sx), 0), w - 1), min(max(int(y * sy), 0), h - 1)
            dx, dy = self.fine_flow[row, col]
            moved.append((x - dx / sx, y - dy / sy))
        return moved


@dataclasses.dataclass
class _Pending:
    canvas: np.ndarray         # the network's ab on the canvas (S, S, 2)
    fresh: np.ndarray          # its box (h, w, 2)
    motion: Motion
    past: np.ndarray = None    # the forward average of the previous frame, warped onto this one (None: none)
    forward: np.ndarray = None  # this frame's forward average


def _warp(image, flow):
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _explained(reference, moved_from, map_x, map_y):
    """Per pixel of ``reference``: 1 where ``moved_from`` (sampled at map) matches it in L, 0 where it does not or
    the map leaves the picture."""
    h, w = reference.shape
    moved = cv2.remap(moved_from, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (map_x >= -0.5) & (map_x <= w - 0.5) & (map_y >= -0.5) & (map_y <= h - 0.5)
    return (np.exp(-np.square((reference - moved) / RESIDUAL_SIGMA)) * inside).astype(np.float32)


class TemporalSmoother:
    """Motion-compensated averaging of one stream of frames' ab. Per frame, in order: ``observe`` its L, run the
    network, ``push`` its ab; ``push`` returns the stabilised ab of the frames that are complete (in order, up to
    ``lookahead`` frames behind); ``flush`` returns the rest at the end. ``reset`` starts afresh."""

    def __init__(self, strength=DEFAULT_STRENGTH, cut_threshold=DEFAULT_CUT_THRESHOLD, lookahead=DEFAULT_LOOKAHEAD):
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"strength must be in [0, 1), got {strength!r}")
        if not 0.0 < cut_threshold <= 1.0:
            raise ValueError(f"cut_threshold must be in (0, 1], got {cut_threshold!r}")
        if int(lookahead) != lookahead or lookahead < 0:
            raise ValueError(f"lookahead must be a whole number of frames >= 0, got {lookahead!r}")
        self.strength, self.cut_threshold, self.lookahead = float(strength), float(cut_threshold), int(lookahead)
        # The fastest preset, refined down to the images' own resolution: on these small images that is about
        # as accurate as the slower presets (a few hundredths of a pixel on a pan) and far cheaper.
        self._flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._flow.setFinestScale(0)
        self.reset()

    def reset(self):
        self._prev_l = self._prev_l8 = self._prev_hist = None
        self._pending = collections.deque()
        self._last = None  # the frame pushed last (its forward average carries on)

    def observe(self, lightness, box_height, box_width):
        """The frame's full-resolution L ((H, W) or (H, W, 1), Lab units) and its box on the network canvas ->
        ``Motion`` from the previous observed frame (a cut for the first)."""
        lightness = np.asarray(lightness, np.float32)
        lightness = lightness[..., 0] if lightness.ndim == 3 else lightness
        bh, bw = int(box_height), int(box_width)
        factor = max(FLOW_SCALE, MIN_FLOW_SIDE / min(bh, bw))
        fh, fw = max(1, round(bh * factor)), max(1, round(bw * factor))
        small = cv2.resize(lightness, (fw, fh), interpolation=cv2.INTER_AREA)
        small8 = np.clip(small * 2.55 + 0.5, 0, 255).astype(np.uint8)
        hist = np.bincount(small8.ravel() >> 3, minlength=_HIST_BINS).astype(np.float32) / small8.size
        prev, prev8, prev_hist = self._prev_l, self._prev_l8, self._prev_hist
        self._prev_l, self._prev_l8, self._prev_hist = small, small8, hist
        if prev is None or prev.shape != small.shape:
            return Motion(cut=True, histogram_distance=1.0)
        distance = 0.5 * float(np.abs(hist - prev_hist).sum())
        if distance > self.cut_threshold:
            return Motion(cut=True, histogram_distance=distance)
        flow = self._flow.calc(small8, prev8, None)  # for each pixel of this frame: its offset in the previous
        grid_x, grid_y = np.meshgrid(np.arange(fw, dtype=np.float32), np.arange(fh, dtype=np.float32))
        confidence = _explained(small, prev, grid_x + flow[..., 0], grid_y + flow[..., 1])
        explained = float(confidence.mean())
        if explained < MIN_EXPLAINED:
            return Motion(cut=True, histogram_distance=distance, explained=explained)
        # The previous frame's pixels, followed forward: the backward flow negated (smooth motion).
        back_confidence = _explained(prev, small, grid_x - flow[..., 0], grid_y - flow[..., 1])
        to_box = lambda image: cv2.resize(image, (bw, bh), interpolation=cv2.INTER_AREA)  # noqa: E731
        full_h, full_w = lightness.shape
        return Motion(cut=False, histogram_distance=distance, explained=explained,
                      flow=to_box(flow) * np.float32([bw / fw, bh / fh]), confidence=to_box(confidence),
                      back_confidence=to_box(back_confidence), fine_flow=flow,
                      fine_scale=(fw / full_w, fh / full_h))

    def push(self, ab, motion, box_height, box_width):
        """The network's ab on the canvas (S, S, 2) for the frame last observed, and its ``Motion`` -> list of
        stabilised ab canvases (new arrays; outside the box as the network gave it) of the frames now complete,
        oldest first."""
        bh, bw = int(box_height), int(box_width)
        canvas = np.array(ab, np.float32)
        frame = _Pending(canvas, np.ascontiguousarray(canvas[:bh, :bw]), motion)
        ready, last = [], self._last
        if motion.cut or last is None or last.fresh.shape != frame.fresh.shape:
            frame.motion = dataclasses.replace(motion, cut=True)
            while self._pending:  # the future of everything before a cut is known: it ends here
                ready.append(self._complete())
            frame.forward = frame.fresh
        else:
            frame.past = _warp(last.forward, motion.flow)
            keep = (self.strength * motion.confidence)[..., None]
            frame.forward = keep * frame.past + (1.0 - keep) * frame.fresh
        self._pending.append(frame)
        self._last = frame
        while len(self._pending) > self.lookahead:
            ready.append(self._complete())
        return ready

    def flush(self):
        """The stabilised ab of the frames still waiting for their future (at the end of the stream)."""
        return [self._complete() for _ in range(len(self._pending))]

    def _complete(self):
        """The oldest pending frame, averaged with its past (forward average) and its future (backward average
        over the frames pending after it, up to the next cut)."""
        a = self.strength
        frames = self._pending
        frame = frames[0]
        end = 1
        while end < len(frames) and not frames[end].motion.cut:
            end += 1
        future = future_part = future_weight = None
        for k in range(end - 1, 0, -1):  # backward average from the newest frame of the shot down to frame 1
            later, here = frames[k], frames[k - 1]
            if future is None:
                future = later.fresh
            moved = _warp(future, -later.motion.flow)  # later frame's average, back onto here's pixels
            if k == 1:
                future_part, future_weight = moved, a * later.motion.back_confidence[..., None]
                break
            keep = (a * later.motion.back_confidence)[..., None]
            future = keep * moved + (1.0 - keep) * here.fresh
        total = np.full(frame.fresh.shape[:2] + (1,), 1.0 - a, np.float32)
        mixed = total * frame.fresh
        if frame.past is not None:
            past_weight = a * frame.motion.confidence[..., None]
            mixed += past_weight * frame.past
            total += past_weight
        if future_part is not None:
            mixed += future_weight * future_part
            total += future_weight
        frames.popleft()
        out = frame.canvas.copy()
        h, w = frame.fresh.shape[:2]
        out[:h, :w] = mixed / total
        return out
