"""Export: the SavedModel reproduces Colorizer.colorize, the TFLite model reproduces the network, no overwrites."""
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO

from colorize import Colorizer, OutputExistsError, WriteError, cli, export


@pytest.fixture(scope="module")
def colorizer(tiny_weights):
    path, config, sha = tiny_weights
    return Colorizer.from_weights(path, config, sha)


@pytest.fixture(scope="module")
def saved(colorizer, tmp_path_factory):
    path = export.export_savedmodel(colorizer, tmp_path_factory.mktemp("export") / "colorizer")
    return path, tf.saved_model.load(str(path)).signatures[export.SIGNATURE_KEY]


@pytest.fixture(scope="module")
def tflite_path(colorizer, tmp_path_factory):
    return export.export_tflite(colorizer, tmp_path_factory.mktemp("export") / "network.tflite")


def _interpreter(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice (LiteRT)
        interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    return interpreter


def _run_tflite(interpreter, x):
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _max_diff(a, b):
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.mark.parametrize("shape", [(50, 70, 3), (50, 70, 1), (31, 17, 4)])
def test_savedmodel_matches_colorize(colorizer, saved, photos, shape):
    _, serve = saved
    image = photos["chelsea"][100:100 + shape[0], 150:150 + shape[1]]
    if shape[2] == 1:
        image = np.round(image @ [0.299, 0.587, 0.114]).astype(np.uint8)[..., None]
    elif shape[2] == 4:
        image = np.dstack([image, np.full(shape[:2], 200, np.uint8)])
    out = serve(image=tf.constant(image))["rgb"].numpy()
    assert out.shape == shape[:2] + (3,) and out.dtype == np.uint8
    assert _max_diff(out, colorizer.colorize(image)) <= 2


def test_savedmodel_signature_accepts_any_size_uint8(saved):
    path, serve = saved
    (spec,) = serve.structured_input_signature[1].values()
    assert spec.dtype == tf.uint8 and spec.shape.as_list() == [None, None, None]
    assert not any(p.name.startswith(".") for p in path.parent.iterdir())  # no temp folders left behind


def test_tflite_matches_the_network(colorizer, tflite_path):
    size = colorizer.config.input_size
    interpreter = _interpreter(tflite_path)
    assert list(interpreter.get_input_details()[0]["shape"]) == [1, size, size, 1]
    assert list(interpreter.get_output_details()[0]["shape"]) == [1, size, size, 2]
    rgb = np.random.default_rng(1).uniform(0, 1, (45, 80, 3)).astype(np.float32)
    prepared = colorizer.preprocessor(rgb)
    ab_tflite = _run_tflite(interpreter, prepared.l_input.numpy()[None])
    ab_tf = colorizer.network_fn(prepared.l_input[None]).numpy()  # TFLite's readout: cast over the whole canvas
    assert np.abs(ab_tflite - ab_tf).max() <= 0.5  # Lab units
    finish = colorizer.postprocessor.finish
    rgb_tflite = finish(prepared.lightness, ab_tflite[0], prepared.box_height, prepared.box_width)
    assert _max_diff(rgb_tflite, finish(prepared.lightness, ab_tf[0], prepared.box_height, prepared.box_width)) <= 2


@pytest.mark.parametrize("kind", ["savedmodel", "tflite"])
def test_export_refuses_to_overwrite(colorizer, saved, tflite_path, kind, tmp_path):
    existing = saved[0] if kind == "savedmodel" else tflite_path
    before = sorted(p.name for p in existing.parent.iterdir())
    write = export.export_savedmodel if kind == "savedmodel" else export.export_tflite
    with pytest.raises(OutputExistsError, match="already exists"):
        write(colorizer, existing)
    assert sorted(p.name for p in existing.parent.iterdir()) == before
    blocker = tmp_path / "taken"
    blocker.write_text("keep me")
    with pytest.raises(OutputExistsError, match="already exists"):
        write(colorizer, blocker)
    assert blocker.read_text() == "keep me"


def test_tflite_overwrite_replaces_atomically(colorizer, tmp_path):
    target = tmp_path / "net.tflite"
    target.write_bytes(b"old")
    export.export_tflite(colorizer, target, overwrite=True)
    assert target.read_bytes()[4:8] == b"TFL3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.tflite"]


def test_cli_export(tiny_weights, tmp_path, capsys):
    path, _, sha = tiny_weights
    out = tmp_path / "cli.tflite"
    argv = ["export", "--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml"),
            "--format", "tflite", "-o", str(out)]
    assert cli.main(argv) == 0 and out.read_bytes()[4:8] == b"TFL3"
    assert cli.main(argv) == 1
    assert "already exists" in capsys.readouterr().err


def test_savedmodel_overwrite_replaces_the_folder(colorizer, tmp_path):
    target = tmp_path / "model"
    export.export_savedmodel(colorizer, target)  # an earlier export: a SavedModel folder, replaceable
    (target / "variables" / "stale.data").write_text("old export")
    export.export_savedmodel(colorizer, target, overwrite=True)
    assert not (target / "variables" / "stale.data").exists() and (target / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_an_unwritable_target_is_a_one_line_error(colorizer, tmp_path, tiny_weights, capsys):
    for target in (Path("/proc/colorize-test/model.tflite"), tmp_path / "a_file" / "model.tflite"):
        (tmp_path / "a_file").write_text("x")
        with pytest.raises(WriteError, match=f"cannot write {target}"):
            export.export_tflite(colorizer, target)
        path, _, sha = tiny_weights
        code = cli.main(["export", "--weights", str(path), "--sha256", sha, "--config",
                         str(REPO / "configs" / "smoke.yaml"), "--format", "tflite", "-o", str(target)])
        err = capsys.readouterr().err
        assert code == 1 and str(target) in err and len(err.strip().splitlines()) == 1


def test_overwrite_never_deletes_a_folder_that_is_not_a_savedmodel(colorizer, tiny_weights, tmp_path, capsys):
    """Issue 26.13 (data loss): export --format savedmodel -o exdir --overwrite deleted whatever exdir held."""
    exdir = tmp_path / "exdir"
    (exdir / "sub").mkdir(parents=True)
    (exdir / "precious.txt").write_text("my thesis")
    (exdir / "sub" / "notes.txt").write_text("notes")
    path, _, sha = tiny_weights
    code = cli.main(["export", "--weights", str(path), "--sha256", sha, "--config",
                     str(REPO / "configs" / "smoke.yaml"), "--format", "savedmodel", "-o", str(exdir), "--overwrite"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "not a SavedModel" in err and "precious.txt" in err
    assert (exdir / "precious.txt").read_text() == "my thesis" and (exdir / "sub" / "notes.txt").read_text() == "notes"
    (exdir / "saved_model.pb").write_bytes(b"")  # a SavedModel's name beside the user's files is not enough
    with pytest.raises(WriteError, match="precious.txt"):
        export.export_savedmodel(colorizer, exdir, overwrite=True)
    assert (exdir / "precious.txt").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["exdir"]
    empty = tmp_path / "empty"
    empty.mkdir()
    export.export_savedmodel(colorizer, empty, overwrite=True)  # an empty folder is fine
    assert (empty / "saved_model.pb").is_file()


class _Untraceable(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.uint8, name="image")])
    def serve(self, image):
        raise ValueError("this graph cannot be traced: an op needs a static shape\nits second line")


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite"])
def test_a_tracer_or_converter_failure_is_itself_not_a_disk_error(colorizer, tmp_path, tiny_weights, capsys,
                                                                  monkeypatch, fmt):
    """Issue 31.5: ``atomic.writing`` turned any failure in its body into "check that the folder is writable and
    the disk is not full"; a tracer's or converter's error is now itself, in one line (in full with --debug)."""
    if fmt == "savedmodel":  # a real tracing failure: TensorFlow traces the signature while saving
        monkeypatch.setattr(export, "serving_module", lambda colorizer: _Untraceable())
        words, target, write = "cannot be traced", tmp_path / "model", export.export_savedmodel
    else:
        def convert(self):
            raise RuntimeError("the converter refused an op: FlexGRU is not a builtin\nits second line")
        monkeypatch.setattr(tf.lite.TFLiteConverter, "convert", convert)
        words, target, write = "FlexGRU is not a builtin", tmp_path / "net.tflite", export.export_tflite
    with pytest.raises(Exception, match=words) as err:
        write(colorizer, target)
    assert not isinstance(err.value, WriteError) and "disk" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no temporary left
    path, _, sha = tiny_weights
    argv = ["export", "--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml"),
            "--format", fmt, "-o", str(target)]
    assert cli.main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("colorize: error: ") and words in lines[0], lines
    assert "disk" not in lines[0] and "--debug" in lines[0]
    assert cli.main(argv + ["--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "its second line" in err and err.strip().splitlines()[-1].startswith(
        "colorize: error: ")
    assert not target.exists()


def test_the_filesystems_own_failures_still_name_the_disk(tmp_path):
    from colorize.io import atomic
    full = tmp_path / "full"
    full.symlink_to("/dev/full")

    def write(tmp):
        with open(full, "wb") as f:  # a full disk, as the body's own write meets it
            f.write(b"x" * 65536)
            f.flush()
    with pytest.raises(WriteError, match="No space left on device.*disk is not full"):
        atomic.write_with(tmp_path / "out.bin", write)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]
