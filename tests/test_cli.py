"""The colorize command line: predict on folders, one-line errors, summaries, exit codes, safe outputs."""
import os

import numpy as np
import pytest
import skimage.color
from conftest import REPO
from PIL import Image

from colorize.cli import main


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml")]


@pytest.fixture
def photo_folder(tmp_path, photos):
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    Image.fromarray(photos["astronaut"][::4, ::3]).convert("L").save(folder / "astronaut.png")
    Image.fromarray(photos["coffee"][::5, ::5]).save(folder / "nested" / "coffee.jpg", quality=95)
    Image.fromarray(photos["chelsea"][:37, :91]).convert("L").save(folder / "chelsea.bmp")
    return folder


def _lightness(rgb):
    return skimage.color.rgb2lab(np.asarray(rgb, np.float64) / 255.0)[..., 0]


def test_predict_writes_same_size_colour_pngs_with_the_input_lightness(photo_folder, tmp_path, model_args, capsys):
    out = tmp_path / "out"
    assert main(["predict", str(photo_folder), "-o", str(out), "--batch-size", "2", "--quiet"] + model_args) == 0
    assert "written 3, skipped 0, failed 0" in capsys.readouterr().out
    for source, result in [("astronaut.png", "astronaut.png"), ("nested/coffee.jpg", "nested/coffee.png"),
                           ("chelsea.bmp", "chelsea.png")]:
        src = np.asarray(Image.open(photo_folder / source).convert("RGB"))
        got = np.asarray(Image.open(out / result))
        assert got.shape == src.shape and got.dtype == np.uint8
        assert np.abs(_lightness(got) - _lightness(src)).mean() <= 0.5


def test_bad_files_are_reported_in_one_line_and_the_rest_is_written(photo_folder, tmp_path, model_args, capsys):
    (photo_folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    (photo_folder / "empty.jpg").write_bytes(b"")
    code = main(["predict", str(photo_folder), "-o", str(tmp_path / "out"), "--quiet"] + model_args)
    captured = capsys.readouterr()
    assert code == 1
    assert "written 3, skipped 0, failed 2" in captured.out
    assert "Traceback" not in captured.err
    failures = [line for line in captured.err.splitlines() if line.startswith("colorize: failed")]
    assert len(failures) == 2 and any("broken.png" in f for f in failures) and any("empty.jpg" in f for f in failures)
    assert not (tmp_path / "out" / "broken.png").exists()


def test_existing_outputs_and_inputs_are_not_overwritten(photo_folder, tmp_path, model_args, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "astronaut.png").write_bytes(b"keep me")
    assert main(["predict", str(photo_folder / "astronaut.png"), "-o", str(out), "--quiet"] + model_args) == 0
    assert (out / "astronaut.png").read_bytes() == b"keep me"
    assert "skipped 1" in capsys.readouterr().out
    original = (photo_folder / "astronaut.png").read_bytes()
    assert main(["predict", str(photo_folder / "astronaut.png"), "-o", str(photo_folder), "--quiet"] + model_args) == 0
    assert (photo_folder / "astronaut.png").read_bytes() == original
    assert main(["predict", str(photo_folder / "astronaut.png"), "-o", str(out), "--overwrite", "--quiet"]
                + model_args) == 0
    assert (out / "astronaut.png").read_bytes() != b"keep me"


@pytest.mark.parametrize("argv, message", [
    (["predict", "/no/such/dir", "-o", "x"], "does not exist"),
    (["summary", "--preset", "nope"], "unknown preset"),
    (["train", "--config", "/no/such.yaml"], "does not exist"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_changed_weights_are_refused_by_the_cli(tmp_path, tiny_weights, photo_folder, capsys):
    path, _, sha = tiny_weights
    bad = tmp_path / "bad.weights.h5"
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF
    bad.write_bytes(bytes(blob))
    code = main(["predict", str(photo_folder), "-o", str(tmp_path / "o"), "--weights", str(bad), "--sha256", sha,
                 "--config", str(REPO / "configs" / "smoke.yaml")])
    assert code == 1 and "sha256" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_summary_prints_the_shape_table(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "rows_as_timesteps" in out and "(None, 8, 1024)" in out and "row_context_bigru" in out


# ---------------------------------------------------------------- no TensorFlow chatter, one-line errors

def _run_cli(args, cwd):
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # conftest sets it; users do not
    return subprocess.run([sys.executable, "-m", "colorize.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def _quiet_commands(tmp_path, tiny_weights, photo_folder):
    path, _, sha = tiny_weights
    model = ["--weights", path, "--sha256", sha, "--config", REPO / "configs" / "smoke.yaml"]
    colour = tmp_path / "colour"
    colour.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(colour / "c.png")
    return {"help": [["--help"], ["predict", "--help"]],
            "predict": [["predict", photo_folder, "-o", tmp_path / "out", "--quiet"] + model],
            "others": [["summary"], ["evaluate", "--data", colour, "--batch-size", "2"] + model,
                       ["export", "--format", "tflite", "-o", tmp_path / "net.tflite"] + model]}


@pytest.mark.parametrize("which", ["help", "predict", pytest.param("others", marks=pytest.mark.slow)])
def test_no_command_prints_tensorflow_or_absl_log_lines(tmp_path, tiny_weights, photo_folder, which):
    for args in _quiet_commands(tmp_path, tiny_weights, photo_folder)[which]:
        result = _run_cli(args, tmp_path)
        assert result.returncode == 0, (args, result.stderr[-2000:])
        assert result.stderr == "", (args[:2], result.stderr[:2000])


def test_help_does_not_load_tensorflow_and_import_sets_no_environment(tmp_path):
    import subprocess
    import sys
    code = ("import os, sys, threading, colorize\n"
            "assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ, 'import colorize set an environment variable'\n"
            "assert 'tensorflow' not in sys.modules and threading.active_count() == 1\n"
            "from colorize.cli import main\n"
            "try:\n    main(['predict', '--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'tensorflow' not in sys.modules, 'colorize --help loaded TensorFlow'\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_missing_tfds_dataset_is_one_line_naming_the_folder(tmp_path, capsys, model_args):
    assert main(["evaluate", "--data", "tfds:no_such_dataset", "--data-dir", str(tmp_path)] + model_args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no_such_dataset" in err and str(tmp_path) in err


@pytest.fixture
def no_bins_model_args(tmp_path, tiny_weights):
    from colorize.config import load_config
    from colorize.model.network import build_model
    from colorize.model.weights import sha256_of
    config_path = tmp_path / "no_bins.yaml"
    config_path.write_text("model:\n  input_size: 32\n  encoder_widths: [8, 16]\n  row_units: 8\n  global_units: 8\n"
                           "  fusion_width: 16\n  bins_head: false\ntrain:\n  loss: regression\n")
    model = build_model(load_config(config_path))
    model.save_weights(tmp_path / "no_bins.weights.h5")
    weights = tmp_path / "no_bins.weights.h5"
    return ["--weights", str(weights), "--sha256", sha256_of(weights), "--config", str(config_path)]


@pytest.mark.parametrize("extra, message", [
    (["--readout", "annealed"], "needs a model with a bins head"),
    (["--max-pixels", "0"], "--max-pixels must be at least 1"),
    (["--batch-pixels", "-5"], "--batch-pixels must be at least 1"),
])
def test_option_errors_are_one_line(photo_folder, tmp_path, no_bins_model_args, capsys, extra, message):
    assert main(["predict", str(photo_folder), "-o", str(tmp_path / "out")] + no_bins_model_args + extra) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_command_modules_do_not_import_the_parser_back():
    # colorize.cli imports every command module; they share colorize.cli.common, never main or build_parser
    commands = [p for p in (REPO / "colorize" / "cli").glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(commands) >= 8
    for path in commands:
        text = path.read_text()
        assert "import main" not in text and "import build_parser" not in text, path.name


# ---------------------------------------------------------------- first contact (issue 25)

def test_version_and_bare_colorize_print_what_a_new_user_needs(capsys):
    import colorize
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"colorize {colorize.__version__}"
    assert main([]) == 2  # the help, and the exit status of a missing argument
    out = capsys.readouterr().out
    assert out.startswith("usage: colorize") and "predict" in out and "presets" in out and "--version" in out


def test_presets_lists_every_preset_with_its_purpose_hints_and_metrics(capsys):
    from colorize import presets
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0].split(" ")[0] for line in lines] == presets.list_presets()
    for line in lines:
        preset = presets.get_preset(line.split(" ")[0].rstrip(":"))
        assert ("takes colour hints" in line) == bool(preset.model.get("hints")), line
        psnr = preset.metrics["validation"]["model"]["psnr"]
        assert f"PSNR {psnr:.2f} dB" in line, line
    assert sum("(default" in line for line in lines) == 2  # the default, and the default with hints


def test_every_option_of_every_command_has_help_and_shows_its_default():
    import argparse

    from colorize.cli import build_parser
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"predict", "presets", "train", "summary", "export", "evaluate", "demo", "serve", "video"} <= set(commands)
    for name, command in commands.items():
        assert command.description, f"colorize {name} has no description"
        command.format_help()  # every help string formats
        for action in command._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings or action.dest)
            if "--preset" in action.option_strings:
                assert "colorize presets" in action.help, name  # --preset points to the list
            if action.option_strings and action.default not in (None, False, [], argparse.SUPPRESS):
                shown = command._get_formatter()._get_help_string(action) % vars(action)
                assert "default" in shown and (str(action.default) in shown or f"{action.default:,}" in shown), (
                    name, action.option_strings, shown)
        assert any(action.option_strings == ["--debug"] for action in command._actions), name  # issue 31.5


def test_the_overwrite_refusal_on_the_command_line_names_the_flag(tmp_path, model_args, capsys):
    target = tmp_path / "net.tflite"
    target.write_bytes(b"keep me")
    assert main(["export", "--format", "tflite", "-o", str(target)] + model_args) == 1
    err = capsys.readouterr().err
    assert "--overwrite" in err and "overwrite=True" not in err and len(err.strip().splitlines()) == 1
    assert target.read_bytes() == b"keep me"


def test_the_python_api_leaves_the_process_as_it_found_it(tmp_path, tiny_weights):
    """After ``import colorize`` and a colorization: the environment is as TensorFlow and Keras themselves leave it
    (they set a few variables of their own on import; colorize sets none), and TensorFlow's own messages still
    reach the caller: its C++ log level is never set, not even for a moment (TensorFlow reads it once, at its load,
    so that would silence its C++ errors for the whole process), and its Python logger still prints."""
    import json
    import subprocess
    import sys
    path, _, sha = tiny_weights
    changed = ("print(json.dumps({k: os.environ.get(k) for k in set(os.environ) | set(before)\n"
               "                  if os.environ.get(k) != before.get(k)}, sort_keys=True))\n")
    code = ("import json, os, sys, numpy as np\n"
            "before, put, set_keys = dict(os.environ), os.putenv, []\n"
            "os.putenv = lambda key, value: (set_keys.append(key), put(key, value))[1]\n"
            "import colorize\n"
            "c = colorize.Colorizer.from_weights(sys.argv[1], colorize.load_config(sys.argv[2]), sys.argv[3])\n"
            "assert c.colorize(np.full((16, 16), 100, np.uint8)).shape == (16, 16, 3)\n"
            "assert 'TF_CPP_MIN_LOG_LEVEL' not in set_keys, set_keys\n" + changed +
            "sys.stderr.write('<<colorized>>\\n'); sys.stderr.flush()\n"
            "import tensorflow as tf\n"
            "tf.get_logger().warning('python-side probe')\n")
    plain = "import json, os\nbefore = dict(os.environ)\nimport numpy, tensorflow, keras\n" + changed
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # conftest sets it; users do not
    result = subprocess.run([sys.executable, "-c", code, str(path), str(REPO / "configs" / "smoke.yaml"), sha],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    tensorflow_alone = subprocess.run([sys.executable, "-c", plain], cwd=tmp_path, capture_output=True, text=True,
                                      env=env, timeout=600)
    assert json.loads(result.stdout) == json.loads(tensorflow_alone.stdout)
    assert "TF_CPP_MIN_LOG_LEVEL" not in json.loads(result.stdout)
    after = result.stderr.split("<<colorized>>", 1)[1]
    assert "python-side probe" in after, after[:2000]


def test_a_tensorflow_that_fails_to_load_says_so_to_the_caller(tmp_path):
    import subprocess
    import sys
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("import os\nos.write(2, b'fake tensorflow: libcuda missing\\n')\n"
                                      "raise ImportError('fake tensorflow cannot load')\n")
    env = {**{k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(REPO)])}
    code = ("import os, colorize\n"
            "try:\n    colorize.rgb_to_lab\nexcept ImportError:\n    pass\nelse:\n    raise SystemExit('imported')\n"
            "assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fake tensorflow: libcuda missing" in result.stderr
