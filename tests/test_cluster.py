"""``colorize predict --ray`` on a real two-node Ray cluster started here on loopback (a head and a second node,
each a ``ray start --block`` process tree this test owns and stops): the outputs of a local run, failures listed,
a worker killed mid-run, a wrong address."""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

from colorize.cli import main

pytestmark = pytest.mark.slow
RAY = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _python(code, env=None, timeout=120):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)


def _session(sid):
    """PIDs of the processes in session ``sid`` (a ``ray start`` we started with its own session, and all it
    started: Ray's workers take their own process groups, not their own sessions)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if entry.isdigit() and int(fields[3]) == sid and fields[0] != "Z":  # zombies are gone already
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def _stop(processes):
    """Stop the ``ray start --block`` processes we started, and everything in their sessions: SIGTERM, then
    SIGKILL what is left after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            for pid in _session(process.pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_session(p.pid) for p in processes):
            time.sleep(0.2)
    for process in processes:
        process.wait(10)


LOOPBACK = "127.0.0.2"


@pytest.fixture(scope="module")
def cluster():
    """-> {"address", "nodes": [head Popen, worker Popen]}: a head and a second node, one CPU each."""
    pytest.importorskip("ray.data", reason="Ray is not installed (pip install -e '.[cluster]')")
    if RAY is None:
        pytest.skip("the ray command is not installed")
    port, temp = _free_port(), tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths
    # The nodes register and talk on loopback only: Ray replaces 127.0.0.1 (and localhost) by the machine's network
    # address, not the rest of 127.0.0.0/8, which Linux routes to the loopback interface as well.
    common = ["--num-cpus", "1", "--block", "--temp-dir", temp, "--disable-usage-stats",
              "--node-ip-address", LOOPBACK]
    # the cluster's own token (Ray's token authentication), for its nodes and for the runs' drivers
    token = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **token}
    head = subprocess.Popen([RAY, "start", "--head", "--port", str(port),
                             "--dashboard-host", "127.0.0.1", "--include-dashboard=false", *common],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)
    nodes = [head]
    try:
        deadline = time.monotonic() + 90
        while True:
            if head.poll() is not None:
                pytest.skip(f"Ray cannot start a head here: {head.stderr.read().decode()[-500:]}")
            try:
                socket.create_connection((LOOPBACK, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip("Ray's head did not open its port within 90 s")
                time.sleep(0.5)
        address = f"{LOOPBACK}:{port}"
        nodes.append(subprocess.Popen([RAY, "start", "--address", address,
                                       *common], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                      start_new_session=True))
        alive = _python(env=env, code="import time, ray\nray.init(address=%r, log_to_driver=False)\n"
                        "for _ in range(120):\n"
                        "    if sum(n['Alive'] for n in ray.nodes()) >= 2: break\n"
                        "    time.sleep(0.5)\n"
                        "print(sum(n['Alive'] for n in ray.nodes()))\n" % address)
        if alive.stdout.strip() != "2":
            pytest.skip(f"the second Ray node did not join: {alive.stderr[-500:]}")
        yield {"address": address, "nodes": nodes, "env": token}
    finally:
        _stop(nodes)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def model_args(tiny_weights):
    path, _, sha = tiny_weights
    return ["--weights", str(path), "--sha256", sha, "--config", str(REPO / "configs" / "smoke.yaml"), "--quiet"]


def _photos(folder, count, corrupt=()):
    """``count`` greyscale crops of a real photo, of several sizes, in two folders (JPEG and PNG), and ``corrupt``
    files that are no images."""
    import skimage.data
    astronaut = skimage.data.astronaut()
    for i in range(count):
        h, w = 40 + 8 * (i % 5), 56 + 12 * (i % 3)
        grey = Image.fromarray(astronaut[7 * i:7 * i + h, 5 * i:5 * i + w]).convert("L")
        path = folder / ("a" if i % 2 else "b") / f"photo{i:02d}.{'png' if i % 3 else 'jpg'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        grey.save(path)
    for name in corrupt:
        (folder / name).write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    return folder


def _outputs(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*.png"))}


def _summary(text):
    return [line for line in text.splitlines() if line.startswith("written")][-1]


def _descendants(pid):
    """PIDs of every process below ``pid`` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cli(args, cluster, timeout=300):
    """``colorize ARGS`` in its own process, with the cluster's token (Ray reads it when it is imported)."""
    return subprocess.run([sys.executable, "-m", "colorize.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **cluster["env"]})


def _local_and_cluster(inputs, options, tmp_path, cluster, code):
    """``predict INPUTS OPTIONS`` here into ``tmp_path/local`` and with ``--ray`` into ``tmp_path/cluster``, both
    exiting with ``code``: the same output names, the same bytes -> (the cluster run, its output folder)."""
    assert main(["predict", str(inputs), "-o", str(tmp_path / "local")] + options) == code
    out = tmp_path / "cluster"
    run = _cli(["predict", str(inputs), "-o", str(out), "--ray", cluster["address"]] + options, cluster)
    assert run.returncode == code, run.stderr[-3000:]
    local = _outputs(tmp_path / "local")
    assert len(local) == len(list(inputs.rglob("photo*"))) and _outputs(out) == local
    return run, out


def test_cluster_outputs_are_those_of_a_local_run_and_failures_are_listed(cluster, tmp_path, model_args, capsys):
    inputs = _photos(tmp_path / "in", 32, corrupt=("a/broken.jpg", "b/empty_scan.png"))
    options = ["--batch-size", "4", "--batch-pixels", "12000"] + model_args  # batches cut by count and by pixels
    run, out = _local_and_cluster(inputs, options, tmp_path, cluster, code=1)
    assert _summary(run.stdout) == f"written 32, skipped 0, failed 2 -> {out}"
    failed = [json.loads(line) for line in (out / "failed.jsonl").read_text().splitlines()]
    assert sorted(Path(f["path"]).name for f in failed) == ["broken.jpg", "empty_scan.png"]
    assert all("cannot be read as an image" in f["reason"] for f in failed)
    assert run.stderr.count("colorize: failed") == 2 and len(run.stderr.splitlines()) == 2, run.stderr[-3000:]
    assert "written 32" in run.stdout

    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*.png")}
    run = _cli(["predict", str(inputs), "-o", str(out), "--ray", cluster["address"]] + options, cluster)
    assert run.returncode == 1, run.stderr[-3000:]
    assert _summary(run.stdout) == f"written 0, skipped 32, failed 2 -> {out}"  # all with an output skipped
    assert "colorize: 32 already done" in run.stderr
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*.png")} == before


def test_references_and_hints_files_give_the_bytes_of_a_local_run(cluster, tmp_path, photos, capsys):
    """``--reference`` for every photo, a hints file naming another reference for one photo (relative to the
    file) and hints for another: the cluster writes what a local run writes, byte for byte."""
    inputs = _photos(tmp_path / "in", 5)
    Image.fromarray(photos["astronaut"][:40, :56]).save(tmp_path / "ref.jpg", quality=95)  # photo00's own colours
    (tmp_path / "refs").mkdir()
    Image.fromarray(photos["astronaut"][7:55, 5:73]).save(tmp_path / "refs" / "near.png")  # photo01's
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps({"a/photo01.png": {"reference": "refs/near.png"},
                                 "b/photo02.png": {"hints": [{"x": 5, "y": 5, "color": "#1f4e9c"}]}}))
    options = ["--preset", "bigru_fusion_64_hints", "--reference", str(tmp_path / "ref.jpg"), "--hints", str(hints),
               "--batch-size", "2", "--quiet"]
    run, out = _local_and_cluster(inputs, options, tmp_path, cluster, code=0)
    assert _summary(run.stdout) == f"written 5, skipped 0, failed 0 -> {out}"
    local = _outputs(tmp_path / "local")
    plain = tmp_path / "plain"  # and the references did something: without them the photos differ
    assert main(["predict", str(inputs), "-o", str(plain), "--preset", "bigru_fusion_64_hints", "--quiet"]) == 0
    assert all(_outputs(plain)[name] != local[name] for name in ("b/photo00.png", "a/photo01.png"))


def test_a_worker_killed_mid_run_loses_nothing(cluster, tmp_path, model_args):
    inputs = _photos(tmp_path / "in", 60)
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "colorize.cli", "predict", str(inputs), "-o", str(out), "--ray",
                            cluster["address"], "--batch-size", "1"] + model_args,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, **cluster["env"]})
    try:
        deadline, victim = time.monotonic() + 240, None
        while victim is None and time.monotonic() < deadline and run.poll() is None:
            if len(list(out.rglob("*.png"))) >= 2:  # photos are being colorized: kill the second node's actor
                workers = [p for p in _descendants(cluster["nodes"][1].pid) if "MapWorker" in _cmdline(p)]
                if workers:
                    victim = workers[0]
                    done_before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*.png")}
                    os.kill(victim, signal.SIGKILL)
            time.sleep(0.02)
        stdout, stderr = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    assert victim is not None, f"no actor ran on the second node in time: {stderr[-2000:]}"
    assert len(done_before) < 60, "the run ended before the kill"
    assert run.returncode == 0, stderr[-3000:]
    assert _summary(stdout) == f"written 60, skipped 0, failed 0 -> {out}"
    outputs = sorted(out.rglob("*.png"))
    assert len(outputs) == 60
    for path in outputs:  # whole: each decodes, at its input's size
        source = next(inputs.rglob(path.stem + ".*"))
        with Image.open(path) as im, Image.open(source) as original:
            im.load()
            assert im.size == original.size and np.asarray(im).shape[2] == 3
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in done_before} == done_before  # written once
    assert not [p for p in out.rglob("*") if p.name.startswith(".colorize-")]  # no temporary file left


@pytest.mark.parametrize("address, says", [
    ("127.0.0.1:{port}", "cannot reach the Ray head at 127.0.0.1:{port}"),
    ("ray://127.0.0.1:{port}", "cannot reach the Ray head at 127.0.0.1:{port}"),
    ("head-node", "is not a cluster address"),
])
def test_a_wrong_address_is_one_line_before_any_photo_is_read(tmp_path, model_args, capsys, monkeypatch, address,
                                                               says):
    pytest.importorskip("ray.data", reason="Ray is not installed (pip install -e '.[cluster]')")
    from colorize import io as imageio
    inputs = _photos(tmp_path / "in", 3)
    read = []
    monkeypatch.setattr(imageio, "load_array", lambda *a, **k: read.append(a) or pytest.fail("a photo was read"))
    port = _free_port()
    started = time.monotonic()
    code = main(["predict", str(inputs), "-o", str(tmp_path / "out"), "--ray", address.format(port=port)]
                + model_args)
    _, stderr = capsys.readouterr()
    assert code == 1 and not read and not (tmp_path / "out").exists()
    assert stderr.count("\n") == 1 and stderr.startswith("colorize: error: ") and says.format(port=port) in stderr
    assert time.monotonic() - started < 20


def test_without_ray_the_error_names_the_install_command(tmp_path, model_args, capsys, monkeypatch):
    _photos(tmp_path / "in", 1)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the cluster extra were not installed
    monkeypatch.setitem(sys.modules, "ray.data", None)
    assert main(["predict", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--ray", "local"] + model_args) == 1
    _, stderr = capsys.readouterr()
    assert stderr.count("\n") == 1 and stderr.startswith("colorize: error: ")
    assert "pip install -e '.[cluster]'" in stderr and not (tmp_path / "out").exists()
