"""The evaluation metrics against answers worked by hand (``colorize.evaluation.metrics``)."""
import math

import numpy as np
import pytest

import colorize
from colorize.evaluation import metrics


def test_colorfulness_of_a_red_and_a_black_pixel():
    """On the 0-255 scale: red (255, 0, 0) has rg = 255, yb = (255 + 0) / 2 - 0 = 127.5; black has 0, 0. Both
    spreads are half the values' differences, sigma = sqrt(127.5^2 + 63.75^2) = 127.5 sqrt(1.25), and so is the
    mean's length: colorfulness = sigma + 0.3 mu = 1.3 x 127.5 sqrt(1.25)."""
    image = np.array([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], np.float32)
    assert float(metrics.colorfulness(image)) == pytest.approx(1.3 * 127.5 * math.sqrt(1.25), rel=1e-5)


def test_colorfulness_of_flat_colours_is_their_mean_term_only():
    """No spread: pure blue has rg = 0, yb = -255, so 0.3 x 255; any grey has 0."""
    blue = np.zeros((4, 5, 3), np.float32)
    blue[..., 2] = 1.0
    assert float(metrics.colorfulness(blue)) == pytest.approx(0.3 * 255, rel=1e-5)
    assert float(metrics.colorfulness(np.full((4, 5, 3), 0.4, np.float32))) == pytest.approx(0.0, abs=1e-3)


def test_auc_of_a_known_ab_error():
    """Two pixels: one exact (within every threshold t = 0..150: 151 of 151), one 10.5 Lab units off in ab
    (within t = 11..150: 140 of 151). AuC = 100 x (151 + 140) / (2 x 151)."""
    truth_lab = np.array([[[50.0, 20.0, -10.0], [60.0, 0.0, 0.0]]], np.float32)
    pred_lab = truth_lab + np.array([[[0.0, 0.0, 0.0], [0.0, 10.5, 0.0]]], np.float32)
    truth, pred = colorize.lab_to_rgb(truth_lab).numpy(), colorize.lab_to_rgb(pred_lab).numpy()
    assert float(metrics.auc(pred, truth)) == pytest.approx(100 * (151 + 140) / (2 * 151), abs=1e-3)
    assert float(metrics.auc(truth, truth)) == pytest.approx(100.0)
