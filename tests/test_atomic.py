"""colorize.io.atomic: whole files or nothing, no clobbering (not even by a racing writer), short temporary names,
stale temporary files cleaned, errors that name the target."""
import os
import subprocess
import sys
import threading
import time

import pytest

from colorize.errors import ColorizeError, OutputExistsError, WriteError
from colorize.io import atomic


def test_write_is_whole_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    assert atomic.write_bytes(target, [b"ab", b"cd"]) == target
    assert target.read_bytes() == b"abcd" and os.listdir(target.parent) == ["out.bin"]
    with pytest.raises(OutputExistsError, match="out.bin already exists"):
        atomic.write_bytes(target, b"new")
    atomic.write_text(target, "new", overwrite=True)
    assert target.read_text() == "new" and os.listdir(target.parent) == ["out.bin"]


def test_a_file_that_appears_during_the_write_is_not_replaced(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(OutputExistsError, match="out.png already exists"):
        with atomic.writing(target) as tmp:
            tmp.write_bytes(b"mine")
            target.write_bytes(b"theirs")  # another process finished the same output meanwhile
    assert target.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["out.png"]


def test_racing_writers_one_wins_whole_the_others_are_told(tmp_path):
    target = tmp_path / "out.bin"
    barrier, results = threading.Barrier(8), []

    def write(i):
        barrier.wait()
        try:
            atomic.write_bytes(target, bytes([i]) * 100_000)
            results.append("won")
        except OutputExistsError:
            results.append("exists")
    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = target.read_bytes()
    assert results.count("won") == 1 and results.count("exists") == 7
    assert len(data) == 100_000 and len(set(data)) == 1 and os.listdir(tmp_path) == ["out.bin"]


def test_temporary_names_are_short_so_long_targets_work(tmp_path):
    target = tmp_path / ("x" * 251 + ".png")  # 255 bytes, the most a name may have
    atomic.write_bytes(target, b"png")
    assert target.read_bytes() == b"png"
    assert len(atomic.temp_path(tmp_path, ".weights.h5").name) < 50


def test_failures_name_the_target_and_clean_up(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WriteError, match=r"cannot write .*file/out.bin") as err:
        atomic.write_bytes(blocker / "out.bin", b"data")
    assert ".colorize-" not in str(err.value) and isinstance(err.value, ColorizeError)

    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_bytes(tmp_path / "out.bin", b"data")
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_folders_are_written_whole_and_replaced_only_when_asked(tmp_path):
    target = tmp_path / "model"
    with atomic.writing(target, directory=True) as tmp:
        (tmp / "a.txt").write_text("one")
    assert (target / "a.txt").read_text() == "one"
    with pytest.raises(OutputExistsError):
        with atomic.writing(target, directory=True) as tmp:
            (tmp / "b.txt").write_text("two")
    with atomic.writing(target, overwrite=True, directory=True) as tmp:
        (tmp / "b.txt").write_text("two")
    assert sorted(os.listdir(target)) == ["b.txt"] and sorted(os.listdir(tmp_path)) == ["model"]


def test_clean_stale_removes_temporary_files_of_dead_processes_and_old_ones(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = atomic.temp_path(tmp_path)
    theirs = atomic.temp_path(tmp_path).with_name(mine.name.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
    old = atomic.temp_path(tmp_path, ".weights.h5")
    legacy = tmp_path / f".photo.png.tmp-{dead.pid}-140000"   # save_png's names before colorize.io.atomic
    folder = atomic.temp_path(tmp_path).with_name(theirs.name + "-dir")
    for path in (mine, theirs, old, legacy):
        path.write_bytes(b"half")
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"half")
    os.utime(old, (time.time() - 2 * atomic.STALE_AFTER_S,) * 2)
    keep = [tmp_path / "photo.png", tmp_path / ".hidden.png"]
    for path in keep:
        path.write_bytes(b"keep")
    assert atomic.clean_stale(tmp_path) == 4
    assert sorted(os.listdir(tmp_path)) == sorted([mine.name] + [p.name for p in keep])
    assert atomic.clean_stale(tmp_path / "missing") == 0


def test_check_writable(tmp_path):
    assert atomic.check_writable(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    assert os.listdir(tmp_path / "new" / "out") == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match="is a file"):
        atomic.check_writable(tmp_path / "file")
    with pytest.raises(WriteError, match="cannot write in the output folder"):
        atomic.check_writable(tmp_path / "file" / "sub")
