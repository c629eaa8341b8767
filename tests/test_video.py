"""Video: round trip (frames, size, rate, rotation, sound copied), stability against per-frame colours, shot cuts,
hints that follow the motion, one-line errors for bad input, and no output left by a failed or interrupted run."""
import fractions

import numpy as np
import pytest
from conftest import REPO

import colorize
from colorize.cli import main
from colorize.config import ModelConfig
from colorize.errors import OutputExistsError
from colorize.evaluation import metrics
from colorize.video.frames import colorize_frames, colorize_video

av = pytest.importorskip("av", reason="video needs the video extra: pip install -e '.[video]'")
pytest.importorskip("cv2", reason="video needs the video extra: pip install -e '.[video]'")


@pytest.fixture(scope="module")
def pretrained():
    return colorize.load_pretrained()


@pytest.fixture(scope="module")
def tiny():
    cfg = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8,
                                      fusion_width=16)
    return colorize.Colorizer(colorize.build_model(cfg), cfg, name="tiny")


@pytest.fixture(scope="module")
def tiny_hints():
    cfg = ModelConfig(input_size=32, encoder_widths=(8, 16), row_units=8, global_units=8,
                                      fusion_width=16, hints=True)
    return colorize.Colorizer(colorize.build_model(cfg), cfg, name="tiny-hints")


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml")]


def pan(photo, frames, width=160, height=96, step=4, start=0):
    """A camera panning right by ``step`` pixels a frame over ``photo``: the scene moves left."""
    return [np.ascontiguousarray(photo[40:40 + height, start + step * t:start + step * t + width])
            for t in range(frames)]


def write_clip(path, frames, rate=10, audio=True, rotation=0, faststart=False, codec="libx264"):
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", container_options=options) as out:
        video = out.add_stream(codec, rate=rate)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=48000) if audio else None
        per_frame = 48000 // rate
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i
            out.mux(video.encode(vf))
            if sound is not None:
                t = (np.arange(per_frame) + i * per_frame) / 48000
                af = av.AudioFrame.from_ndarray((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None],
                                                format="fltp", layout="mono")
                af.sample_rate, af.pts = 48000, i * per_frame
                out.mux(sound.encode(af))
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))
    return path


def probe(path):
    with av.open(str(path)) as f:
        v = f.streams.video[0]
        frames = [fr for fr in f.decode(v)]
        info = {"frames": len(frames), "size": (v.codec_context.width, v.codec_context.height),
                "times": [float(fr.pts * fr.time_base) for fr in frames],
                "rate": v.average_rate, "rotation": frames[0].rotation, "codec": v.codec_context.name,
                "streams": [s.type for s in f.streams]}
    with av.open(str(path)) as f:
        info["audio_packets"] = [bytes(p) for p in f.demux(audio=0) if p.size] if f.streams.audio else []
    return info


def ab(frames):
    return [colorize.rgb_to_lab(f.astype(np.float32) / 255).numpy()[..., 1:] for f in frames]


def test_round_trip_keeps_frames_size_rate_rotation_and_copies_the_sound(tmp_path, tiny, photos):
    src = write_clip(tmp_path / "in.mp4", pan(photos["astronaut"], 12, width=96, height=64), rate=12, rotation=90)
    report = colorize_video(tiny, src, tmp_path / "out.mp4")
    got, want = probe(tmp_path / "out.mp4"), probe(src)
    assert report.frames == want["frames"] == got["frames"] == 12
    assert got["size"] == want["size"] == (96, 64)
    assert got["rate"] == want["rate"] == 12 and got["times"] == want["times"]
    assert got["rotation"] == want["rotation"] == 90
    assert got["codec"] == "h264" and got["streams"] == ["video", "audio"]
    assert got["audio_packets"] == want["audio_packets"] and got["audio_packets"]  # copied bit for bit
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]  # no temp file left
    with pytest.raises(OutputExistsError, match="already exists"):
        colorize_video(tiny, src, tmp_path / "out.mp4")


def test_subtitles_are_copied_into_mkv_and_an_mp4_that_cannot_hold_them_is_refused(tmp_path, tiny, photos):
    src = tmp_path / "in.mkv"
    with av.open(str(src), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 96, 64, "yuv420p"
        subtitles = out.add_mux_stream("subrip")
        subtitles.time_base = fractions.Fraction(1, 1000)
        for i, frame in enumerate(pan(photos["astronaut"], 10, width=96, height=64)):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i
            out.mux(video.encode(vf))
            if i % 5 == 0:
                packet = av.Packet(f"line {i}".encode())
                packet.stream, packet.pts, packet.dts, packet.duration = subtitles, i * 100, i * 100, 400
                packet.time_base = subtitles.time_base
                out.mux(packet)
        out.mux(video.encode(None))
    colorize_video(tiny, src, tmp_path / "out.mkv")
    with av.open(str(tmp_path / "out.mkv")) as f:
        assert [bytes(p) for p in f.demux(subtitles=0) if p.size] == [b"line 0", b"line 5"]
    with pytest.raises(colorize.InputError, match="subtitle stream .* cannot be copied into a .mp4"):
        colorize_video(tiny, src, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_stabilised_pan_flickers_less_than_per_frame_and_stays_as_accurate(pretrained, photos):
    step = 4
    frames = pan(photos["coffee"], 16, step=step)

    def flicker(outputs):  # the scene point at x in frame t was at x + step in frame t-1
        abs_ = ab(outputs)
        return np.mean([np.linalg.norm(b[:, :-step] - a[:, step:], axis=-1).mean() for a, b in zip(abs_, abs_[1:])])

    per_frame = list(colorize_frames(pretrained, frames, stabilize=False))
    stable = list(colorize_frames(pretrained, frames))
    assert flicker(stable) < 0.6 * flicker(per_frame)
    truth = [f.astype(np.float32) / 255 for f in frames]
    psnr = lambda outs: np.mean([float(metrics.psnr(o / 255, t)) for o, t in zip(outs, truth)])  # noqa
    assert psnr(stable) > psnr(per_frame) - 0.1


def test_two_shot_clip_cut_is_found_and_nothing_carries_over(pretrained, photos):
    first, second = pan(photos["astronaut"], 8), pan(photos["coffee"], 8)
    cuts = []
    both = list(colorize_frames(pretrained, first + second, on_cut=cuts.append))
    assert cuts == [8]
    # Each shot comes out exactly as it does alone: no colour crosses the cut, either way.
    for shot, out in ((first, both[:8]), (second, both[8:])):
        alone = list(colorize_frames(pretrained, shot))
        assert all(np.array_equal(a, b) for a, b in zip(alone, out))
    assert not all(np.array_equal(a, b) for a, b in zip(both, colorize_frames(pretrained, first + second,
                                                                             stabilize=False)))


def test_cuts_are_reported_for_files(tmp_path, tiny, photos):
    src = write_clip(tmp_path / "two.mp4", pan(photos["astronaut"], 6) + pan(photos["coffee"], 6), audio=False)
    assert colorize_video(tiny, src, tmp_path / "out.mkv").cuts == (6,)
    assert probe(tmp_path / "out.mkv")["frames"] == 12


def test_hints_follow_the_motion_and_end_at_the_cut(tiny_hints, photos):
    step = 4
    frames = pan(photos["astronaut"], 6, step=step) + pan(photos["coffee"], 4)
    hints = {"0": [{"x": 100, "y": 50, "color": "#ff0000", "radius": 3}]}
    hinted = list(colorize_frames(tiny_hints, frames, hints=hints))
    plain = list(colorize_frames(tiny_hints, frames))

    def redness(frame, x, y):  # Lab a* around a point
        return float(ab([frame[y - 1:y + 2, x - 1:x + 2]])[0][..., 0].mean())

    assert redness(hinted[0], 100, 50) > 25 > 10 > redness(plain[0], 100, 50)
    x5 = 100 - 5 * step  # where the hinted scene point is five frames later
    assert redness(hinted[5], x5, 50) > 25 > 10 > redness(plain[5], x5, 50)
    assert redness(hinted[5], x5, 50) > redness(hinted[5], 100, 50) + 10
    for a, b in zip(hinted[6:], plain[6:]):  # after the cut the hint is gone: the same frames as without it
        assert np.array_equal(a, b)


def test_hints_need_a_hint_model_and_valid_frame_numbers(tiny, tiny_hints, photos, tmp_path):
    frames = pan(photos["astronaut"], 2)
    with pytest.raises(colorize.InputError, match="takes no hints"):
        list(colorize_frames(tiny, frames, hints={0: [(10, 10, "#ff0000")]}))
    with pytest.raises(colorize.InputError, match="not a frame number"):
        list(colorize_frames(tiny_hints, frames, hints={"first": [(10, 10, "#ff0000")]}))
    bad = tmp_path / "hints.json"
    bad.write_text('{"0": [{"x": 10, "y": 10}]')
    with pytest.raises(colorize.InputError, match="not valid JSON"):
        list(colorize_frames(tiny_hints, frames, hints=bad))


def _unsupported_codec_clip(path):
    out = av.open(str(path), "w")
    stream = out.add_mux_stream("avs3", width=64, height=48)  # a codec this FFmpeg can store but not decode
    stream.time_base = fractions.Fraction(1, 25)
    for i in range(3):
        packet = av.Packet(bytes(64))
        packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, stream.time_base
        out.mux(packet)
    out.close()
    return path


def _audio_only(path):
    with av.open(str(path), "w") as out:
        sound = out.add_stream("aac", rate=48000)
        af = av.AudioFrame.from_ndarray(np.zeros((1, 4800), np.float32), format="fltp", layout="mono")
        af.sample_rate, af.pts = 48000, 0
        out.mux(sound.encode(af))
        out.mux(sound.encode(None))
    return path


def _truncated(path, photos):
    write_clip(path, pan(photos["astronaut"], 12, width=96, height=64), faststart=True)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 2 // 3])
    return path


@pytest.mark.parametrize("case, message", [
    ("text", "cannot be read as a video"),
    ("audio_only", "has no video stream"),
    ("truncated", "truncated"),
    ("truncated_no_index", "cannot be read as a video"),
    ("unsupported", "cannot be decoded"),
    ("missing", "does not exist"),
])
def test_bad_input_is_one_line_naming_the_file(case, message, tmp_path, photos, model_args, capsys):
    src = tmp_path / f"{case}.mp4"
    if case == "text":
        src.write_text("not a video\n" * 20)
    elif case == "audio_only":
        _audio_only(src)
    elif case == "truncated":
        _truncated(src, photos)
    elif case == "truncated_no_index":  # the index (moov) is written last: cut off, nothing can be found
        write_clip(src, pan(photos["astronaut"], 4, width=96, height=64))
        src.write_bytes(src.read_bytes()[:-200])
    elif case == "unsupported":
        src = _unsupported_codec_clip(tmp_path / "unsupported.mkv")
    out = tmp_path / "out.mp4"
    assert main(["video", str(src), "-o", str(out), "--quiet"] + model_args) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("colorize: error:") and "Traceback" not in err, err
    assert str(src) in lines[0] and message in lines[0], lines[0]
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_options_are_refused(tmp_path, tiny, photos):
    src = write_clip(tmp_path / "in.mp4", pan(photos["astronaut"], 2, width=96, height=64), audio=False)
    with pytest.raises(colorize.InputError, match="not a video encoder"):
        colorize_video(tiny, src, tmp_path / "out.mp4", codec="nope")
    with pytest.raises(colorize.InputError, match="cannot write a video"):
        colorize_video(tiny, src, tmp_path / "out.unknownsuffix")
    with pytest.raises(colorize.InputError, match="crf"):
        colorize_video(tiny, src, tmp_path / "out.mp4", crf=99)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_interrupted_run_leaves_no_output_and_says_so(tmp_path, photos, model_args, monkeypatch, capsys):
    import colorize.video.frames
    src = write_clip(tmp_path / "in.mp4", pan(photos["astronaut"], 12, width=96, height=64))
    original, calls = colorize.video.frames._Pipeline.push, []

    def interrupted(self, rgbs, extras=None):
        calls.append(len(rgbs))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, rgbs, extras)

    monkeypatch.setattr(colorize.video.frames._Pipeline, "push", interrupted)
    out = tmp_path / "out.mp4"
    assert main(["video", str(src), "-o", str(out), "--quiet", "--batch-size", "4"] + model_args) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "interrupted" in err[0] and str(out) in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_cli_writes_the_video_and_refuses_to_overwrite(tmp_path, photos, model_args, capsys):
    src = write_clip(tmp_path / "in.mp4", pan(photos["astronaut"], 6, width=96, height=64))
    out = tmp_path / "out.mp4"
    assert main(["video", str(src), "-o", str(out), "--quiet", "--crf", "23"] + model_args) == 0
    assert "wrote" in capsys.readouterr().out and probe(out)["frames"] == 6
    before = out.read_bytes()
    assert main(["video", str(src), "-o", str(out), "--quiet"] + model_args) == 1
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["video", str(src), "-o", str(out), "--quiet", "--overwrite", "--per-frame"] + model_args) == 0


# -- round 3 of hostile input (issue 26) ---------------------------------------------------------------------
def _cut_mkv(path, photos, frames=50, keep=0.6):
    """An MKV (its container counts no frames, only a duration) cut to ``keep`` of its bytes."""
    write_clip(path, pan(photos["astronaut"], frames, width=96, height=64, step=2), rate=10)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


def test_a_cut_off_mkv_is_refused_in_one_line_unless_allow_truncated(tmp_path, photos, model_args, capsys):
    """Issue 26.5: an MKV cut mid-stream, whose container still declares 5 s, was colorized without a word."""
    src = _cut_mkv(tmp_path / "cut.mkv", photos)
    out = tmp_path / "out.mkv"
    assert main(["video", str(src), "-o", str(out), "--quiet"] + model_args) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "ended early" in lines[0] and str(src) in lines[0], lines
    assert "--allow-truncated" in lines[0] and not out.exists()
    assert main(["video", str(src), "-o", str(out), "--quiet", "--allow-truncated"] + model_args) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "ended early" in captured.err
    assert 20 <= probe(out)["frames"] < 50
    whole = write_clip(tmp_path / "whole.mkv", pan(photos["astronaut"], 20, width=96, height=64), rate=10)
    assert main(["video", str(whole), "-o", str(tmp_path / "whole_out.mkv"), "--quiet"] + model_args) == 0
    assert "warning" not in capsys.readouterr().err


def test_temporaries_of_killed_video_runs_are_removed(tmp_path, photos, tiny):
    """Issue 26.6: a SIGKILLed run's hidden full-size temporary video beside the output stayed for ever."""
    import os
    import subprocess
    import sys

    from colorize.io import atomic
    src = write_clip(tmp_path / "in.mp4", pan(photos["astronaut"], 4, width=96, height=64), audio=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    name = atomic.temp_path(tmp_path, ".mp4").name.replace(f"-{os.getpid()}-", f"-{dead.pid}-")
    (tmp_path / name).write_bytes(b"\0" * 4096)  # what a killed run leaves
    colorize_video(tiny, src, tmp_path / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]


def test_hints_for_frames_the_video_lacks_are_errors_and_bad_hints_are_bad_hints(tmp_path, photos, tiny_hints):
    """Issue 26.7: {"999": [...]} on a 12-frame clip was ignored without a word, and a bad hint (one whose x
    overflows a float, or the radius of issue 26.1) was reported as "cannot write ... the disk is not full"."""
    import json
    hint = [{"x": 10, "y": 10, "color": "#ff0000"}]
    for suffix in (".mp4", ".mkv"):  # the MP4 counts its frames: refused before any work; the MKV at its end
        src = write_clip(tmp_path / f"in{suffix}", pan(photos["astronaut"], 12, width=96, height=64), audio=False)
        hints = tmp_path / "hints.json"
        hints.write_text(json.dumps({"0": hint, "999": hint}))
        out = tmp_path / f"out{suffix}"
        with pytest.raises(colorize.InputError, match="frame 999, but .* has 12 frames") as err:
            colorize_video(tiny_hints, src, out, hints=hints)
        assert "\n" not in str(err.value) and not out.exists()
    with pytest.raises(colorize.InputError, match="frame 5, but frames has 2 frames"):
        list(colorize_frames(tiny_hints, pan(photos["astronaut"], 2), hints={5: hint}))
    for bad, words in (('{"0": [{"x": 1' + "0" * 400 + ', "y": 10, "color": "#ff0000"}]}', "not a finite number"),
                       ('{"0": [{"x": 1, "y": 10, "color": "#ff0000", "radius": 1e300}]}', "diagonal")):
        hints.write_text(bad)
        with pytest.raises(colorize.InputError, match=words) as err:
            colorize_video(tiny_hints, tmp_path / "in.mp4", tmp_path / "bad.mp4", hints=hints)
        assert "cannot write" not in str(err.value) and "disk" not in str(err.value)


def test_a_bogus_encoder_preset_is_named_with_the_accepted_values(tmp_path, photos, model_args, capsys):
    """Issue 26.14: --encoder-preset bogus was reported as "cannot write ... check that the disk is not full"."""
    src = write_clip(tmp_path / "in.mp4", pan(photos["astronaut"], 2, width=96, height=64), audio=False)
    out = tmp_path / "out.mp4"
    assert main(["video", str(src), "-o", str(out), "--quiet", "--encoder-preset", "bogus"] + model_args) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--encoder-preset 'bogus'" in lines[0] and "veryfast" in lines[0], lines
    assert "disk" not in lines[0] and not out.exists()


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
def test_a_still_image_is_refused_in_one_line_that_points_to_predict(tmp_path, photos, model_args, capsys, suffix):
    from PIL import Image
    still = tmp_path / f"still{suffix}"
    Image.fromarray(photos["astronaut"][:64, :96]).convert("L").save(still)
    out = tmp_path / "out.mp4"
    assert main(["video", str(still), "-o", str(out), "--quiet"] + model_args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "still image" in err[0] and f"colorize predict {still}" in err[0], err
    assert not out.exists()
