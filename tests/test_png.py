"""colorize.io.png: the PNG encoder round-trips exactly through Pillow and libpng (TensorFlow) at every size."""
import io
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from colorize.io import png


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1), (3, 7), (512, 768), (1080, 1920)])
def test_round_trip_is_exact(shape):
    rgb = np.random.default_rng(sum(shape)).integers(0, 256, shape + (3,), dtype=np.uint8)
    data = png.encode_png(rgb)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), rgb)
    assert np.array_equal(tf.io.decode_png(data, channels=3).numpy(), rgb)  # libpng checks CRCs and Adler-32


def test_photo_round_trip_and_size_close_to_pillow(photos):
    rgb = photos["coffee"]
    data = png.encode_png(rgb)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), rgb)
    pillow = io.BytesIO()
    Image.fromarray(rgb).save(pillow, format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
    assert len(data) < 1.3 * len(pillow.getvalue())


def test_large_images_are_split_into_bands_and_stay_one_valid_stream(monkeypatch):
    rgb = np.random.default_rng(1).integers(0, 256, (600, 400, 3), dtype=np.uint8)
    monkeypatch.setattr(png, "MIN_BAND_BYTES", 1024)
    monkeypatch.setattr(png, "WORKERS", 4)
    data = png.encode_png(rgb)
    assert np.array_equal(tf.io.decode_png(data, channels=3).numpy(), rgb)


def test_pieces_are_the_file_and_the_thread_pool_waits_for_a_first_image(monkeypatch):
    import subprocess
    import sys
    code = ("import threading, colorize.io.png as png; "
            "named = lambda: [t for t in threading.enumerate() if t.name.startswith('colorize-png')]; "
            "assert not named(), 'pool made at import'; "
            "import numpy as np; png.MIN_BAND_BYTES = 1024; png.WORKERS = 2; "
            "png.encode_png(np.zeros((300, 300, 3), np.uint8)); assert named(), 'no band thread'")
    subprocess.run([sys.executable, "-c", code], check=True)
    rgb = np.random.default_rng(2).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    monkeypatch.setattr(png, "MIN_BAND_BYTES", 1024)
    pieces = png.png_pieces(rgb)
    assert len(pieces) > 3 and b"".join(pieces) == png.encode_png(rgb)
    assert np.array_equal(tf.io.decode_png(b"".join(pieces), channels=3).numpy(), rgb)
