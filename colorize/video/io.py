"""Video files in and out, through PyAV (FFmpeg's libraries, bundled in its wheels with libx264 and AAC).

``VideoSource`` opens a file, checks that it holds a decodable video stream, and streams its frames (RGB uint8)
together with the packets of the audio and subtitle streams, untouched, in the order they were demuxed.
``VideoSink`` encodes frames into a new file with the source's size, frame timing, rotation and colour tags, and
muxes those packets as they come, so that sound and subtitles are copied without re-encoding and nothing is held
for the whole video. (``colorize.video`` writes through ``colorize.io.atomic``, so the file appears only complete.)

Every problem a user can cause (not a video, no video stream, a truncated file, a codec this FFmpeg cannot decode
or encode, a stream the output container cannot hold) raises ``InputError`` naming the file.
"""
import contextlib
from pathlib import Path

import numpy as np

from colorize.errors import InputError

try:
    import av
except ImportError:  # the extra is optional; importing colorize.video.frames must still work without it
    av = None

COPIED_STREAMS = ("audio", "subtitle")
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")  # x265 takes the same names


def require_av():
    if av is None:
        raise InputError("video needs PyAV: pip install 'colorize-photos[video]' (or pip install av "
                         "opencv-python-headless)")
    return av


class VideoSource:
    """One video file: ``width``, ``height``, ``rate`` (frames/s), ``time_base``, ``frames`` (0 if the container
    does not say), ``rotation`` (degrees counter-clockwise, from the display matrix), ``copied`` (the audio and
    subtitle streams). ``read()`` yields ``(rgb uint8 (H, W, 3), pts, packets)`` per frame, ``packets`` being
    the copied streams' packets demuxed before it, then one ``(None, None, packets)`` with the rest.

    A file that ends before the frames or the duration its container declares (cut off mid-stream) raises
    ``InputError`` at its end; with ``allow_truncated`` it ends there instead, and ``ended_early`` says so."""

    def __init__(self, path, allow_truncated=False):
        require_av()
        self.path, self.allow_truncated, self.ended_early = Path(path), allow_truncated, None
        name = str(path)
        try:
            if not self.path.exists():
                raise InputError(f"{name} does not exist; check the path")
            if self.path.is_dir():
                raise InputError(f"{name} is a directory, not a video file")
            if self.path.stat().st_size == 0:
                raise InputError(f"{name} is an empty file (0 bytes)")
        except OSError as err:
            raise InputError(f"{name} cannot be accessed ({err})") from err
        try:
            self.container = av.open(name, metadata_errors="replace")
        except av.error.FFmpegError as err:
            raise InputError(f"{name} cannot be read as a video ({_reason(err)}); check that it is a video file "
                             "and not damaged") from None
        try:
            self._open_streams(name)
        except BaseException:
            self.container.close()
            raise

    def _open_streams(self, name):
        videos = [s for s in self.container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        if not videos:
            kinds = ", ".join(sorted({s.type for s in self.container.streams})) or "nothing"
            raise InputError(f"{name} has no video stream (it holds {kinds})")
        self.video = videos[0]
        if self.video.codec_context is None:
            raise InputError(f"{name}: its video codec ({_codec_name(self.video)}) cannot be decoded by this "
                             "FFmpeg build; convert it first (e.g. to H.264)")
        self.video.thread_type = "AUTO"  # frame threads: decoding runs beside the network
        self.copied = [s for s in self.container.streams if s.type in COPIED_STREAMS]
        ctx = self.video.codec_context
        self.width, self.height = ctx.width, ctx.height
        if not (self.width and self.height):
            raise InputError(f"{name}: its video stream has no picture size; the file may be damaged")
        self.rate = self.video.average_rate or self.video.guessed_rate or self.video.base_rate
        if not self.rate:
            raise InputError(f"{name}: its video stream has no frame rate; the file may be damaged")
        self.time_base = self.video.time_base
        self.frames = int(self.video.frames or 0)
        self.colour = {k: getattr(ctx, k, None) for k in ("colorspace", "color_range", "color_primaries",
                                                           "color_trc")}
        self.sample_aspect_ratio = ctx.sample_aspect_ratio
        self._packets = self._demux(name)
        first = next(self._packets, None)  # decodes the first frame now: an undecodable file fails before any output
        if first is None or first[0] is None:
            raise InputError(f"{name}: no frame of its video stream could be decoded; the file may be truncated or "
                             "damaged")
        self._first = first
        self.rotation = self._first_rotation

    @property
    def expected_frames(self):
        """The frame count from the container, else one estimated from the duration (0 if neither is known)."""
        if self.frames:
            return self.frames
        if self.video.duration and self.time_base:
            seconds = float(self.video.duration * self.time_base)
        else:
            seconds = (self.container.duration or 0) / 1_000_000  # av.time_base: microseconds
        return int(round(seconds * float(self.rate)))

    def read(self):
        """Frames and pass-through packets, in demux order (see the class docstring). Call once."""
        yield self._first
        yield from self._packets

    def _demux(self, name):
        pending, count, first, last = [], 0, None, None
        reached = 0.0  # seconds: the end of the latest packet of any stream demuxed (a cut file ends them all)
        self._first_rotation = 0
        try:
            for packet in self.container.demux(self.video, *self.copied):
                if packet.pts is not None and packet.time_base:
                    reached = max(reached, float((packet.pts + (packet.duration or 0)) * packet.time_base))
                if packet.stream.index != self.video.index:
                    if packet.dts is not None:  # demux ends each stream with an empty flush packet
                        pending.append(packet)
                    continue
                for frame in packet.decode():
                    if count == 0:
                        self._first_rotation = int(getattr(frame, "rotation", 0) or 0)
                    rgb = frame.to_ndarray(format="rgb24", width=self.width, height=self.height,
                                           src_color_range=_range(frame.color_range))
                    pts = None if frame.pts is None or frame.time_base is None else \
                        int(round(frame.pts * frame.time_base / self.time_base))
                    count += 1
                    if pts is not None:
                        first, last = (pts if first is None else first), pts
                    yield rgb, pts, pending
                    pending = []
        except av.error.FFmpegError as err:
            self._ended_early(f"{name}: decoding failed after {count} frames ({_reason(err)}); the file may be "
                              "truncated or damaged")
        if self.ended_early is not None:
            pass  # already said
        elif count < self.frames and self._frames_missing(count, first, last):
            self._ended_early(f"{name} is truncated or damaged: only {count} of its {self.frames} frames could be "
                              "decoded")
        elif not self.frames and self._short_of_duration(reached):
            declared = self.container.duration / 1_000_000
            self._ended_early(f"{name} ended early: {count} frames decoded, {reached:.1f} s of the {declared:.1f} s "
                              "its container declares; the file may be truncated or damaged")
        yield None, None, pending

    def _ended_early(self, message):
        if not self.allow_truncated:
            raise InputError(f"{message} (--allow-truncated colorizes the frames it has)")
        self.ended_early = message

    def _short_of_duration(self, reached):
        """Whether every stream ended before the duration the container declares (for containers that count no
        frames, as Matroska): more than three frames short. A stream of its own ending early is not a cut file."""
        if not self.container.duration:
            return False
        end = ((self.container.start_time or 0) + self.container.duration) / 1_000_000
        return reached < end - 3 / float(self.rate)

    def _frames_missing(self, count, first_pts, last_pts):
        """With fewer frames decoded than the container counts: whether some are missing in the middle or at the
        end (a truncated file), rather than cut from the start by an edit list, as in a whole trimmed file."""
        video = self.video
        if last_pts is None or not self.time_base:
            return True
        step = 1 / (float(self.rate) * float(self.time_base))
        gaps = (last_pts - first_pts) / step + 1 - count > 0.5
        ends_early = bool(video.duration) and last_pts + step < (video.start_time or 0) + video.duration - 2 * step
        return gaps or ends_early

    def close(self):
        self.container.close()


class VideoSink:
    """Encodes RGB frames into ``path`` (format from its suffix) with ``source``'s timing, size, rotation and
    colour tags, and muxes ``source``'s copied streams' packets unchanged."""

    def __init__(self, path, source, codec="libx264", crf=18, preset=None, format=None):
        require_av()
        self.path, self.source = Path(path), source
        _check_encoder(codec)
        try:
            self.container = av.open(str(path), "w", format=format)
        except (av.error.FFmpegError, ValueError) as err:
            raise InputError(f"cannot write a video to {path} ({_reason(err)}); use a .mp4, .mkv or .mov name") \
                from None
        try:
            self._add_streams(codec, crf, preset)
        except BaseException:
            self.container.close()
            raise
        self._last_pts = None
        self._step = max(1, int(round(1 / (source.rate * source.time_base)))) if source.time_base else 1

    def _add_streams(self, codec, crf, preset):
        source, out = self.source, self.container
        supported = out.supported_codecs
        where = f"a {self.path.suffix or 'suffix-less'} file"
        if codec not in supported and av.Codec(codec, "w").name not in supported:
            raise InputError(f"--codec {codec} cannot be stored in {where}; use another codec or container")
        stream = out.add_stream(codec, rate=source.rate)
        stream.width, stream.height = source.width, source.height
        formats = [f.name for f in (stream.codec_context.codec.video_formats or [])]
        even = source.width % 2 == 0 and source.height % 2 == 0
        # 4:2:0 needs even sides; odd-sized videos keep every pixel in 4:4:4 rather than being cropped.
        for pix_fmt in (("yuv420p",) if even else ()) + ("yuv444p", "yuv420p"):
            if not formats or pix_fmt in formats:
                stream.pix_fmt = pix_fmt
                break
        stream.codec_context.time_base = source.time_base
        stream.time_base = source.time_base
        if source.sample_aspect_ratio:
            stream.codec_context.sample_aspect_ratio = source.sample_aspect_ratio
        for key, value in source.colour.items():
            if value is not None:
                with contextlib.suppress(AttributeError, ValueError, TypeError):
                    setattr(stream.codec_context, key, value)
        options = {"crf": str(crf)} if crf is not None else {}
        if codec in ("libx264", "libx265") and preset:
            options["preset"] = preset
        if codec.startswith("libvpx") and crf is not None:
            options["b"] = "0"  # constant quality: VP8/VP9 use crf only with no bitrate target
        stream.codec_context.options = options
        if source.rotation:
            if not hasattr(stream, "set_display_rotation"):
                raise InputError(f"{source.path} is rotated {source.rotation} degrees; keeping that needs PyAV 18 "
                                 "or later (pip install -U av)")
            stream.set_display_rotation(source.rotation)
        self.video = stream
        self.copies = {}
        for s in source.copied:
            if s.codec_context is not None and s.codec_context.name not in supported:
                raise InputError(f"{source.path}: its {s.type} stream #{s.index} ({s.codec_context.name}) cannot be "
                                 f"copied into {where} without re-encoding; write a .mkv instead")
            self.copies[s.index] = out.add_stream_from_template(s)

    def write(self, rgb, pts, packets=()):
        """Mux ``packets`` (from the source's copied streams), then encode one RGB frame (``pts`` in the source's
        time base; None or out of order: the next one after the last)."""
        self.mux(packets)
        if rgb is None:
            return
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = 0 if self._last_pts is None else self._last_pts + self._step
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        colour = self.source.colour
        frame = frame.reformat(format=self.video.pix_fmt, dst_colorspace=_colorspace(colour.get("colorspace")),
                               dst_color_range=_range(colour.get("color_range")))
        frame.pts, frame.time_base = pts, self.source.time_base
        self.container.mux(self.video.encode(frame))

    def mux(self, packets):
        for packet in packets:
            target = self.copies.get(packet.stream.index)
            if target is not None:
                packet.stream = target
                self.container.mux(packet)

    def close(self):
        """Flush the encoder and finish the file."""
        self.container.mux(self.video.encode(None))
        self.container.close()

    def abort(self):
        with contextlib.suppress(Exception):
            self.container.close()


def _check_encoder(codec):
    try:
        found = av.Codec(codec, "w")
    except Exception:  # UnknownCodecError (a ValueError) for names FFmpeg has never heard of
        found = None
    if found is None or found.type != "video":
        ours = sorted(c for c in ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1", "mpeg4", "ffv1")
                      if c in av.codecs_available)
        raise InputError(f"--codec {codec!r} is not a video encoder of this FFmpeg build; try one of {', '.join(ours)}")


def _colorspace(value):
    """A YUV matrix tag worth passing to swscale (None for RGB and unspecified: swscale's default, BT.601)."""
    return None if value is None or int(value) in (0, 2) else value


def _range(value):
    """A colour range tag worth passing to swscale (limited = 1, full = 2; unspecified: None)."""
    return value if value is not None and int(value) in (1, 2) else None


def _codec_name(stream):
    with contextlib.suppress(Exception):
        return stream.codec.name
    return "unknown"


def _reason(err):
    return getattr(err, "strerror", None) or str(err)
