"""The quantized ab bins: soft targets, rebalancing weights, annealed mean."""
import numpy as np
import tensorflow as tf

from colorize.model import bins


def test_soft_encode_is_the_gaussian_over_bin_centres():
    ab = np.random.default_rng(0).uniform(-100, 100, (3, 5, 7, 2)).astype(np.float32)
    centers = bins.bin_centers()
    d2 = ((ab[..., None, :] - centers) ** 2).sum(-1)
    expected = np.exp(-(d2 - d2.min(-1, keepdims=True)) / (2 * bins.SOFT_SIGMA ** 2))
    expected /= expected.sum(-1, keepdims=True)
    got = bins.soft_encode(tf.constant(ab)).numpy()
    assert got.shape == (3, 5, 7, bins.num_bins())
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert (got.argmax(-1) == d2.argmin(-1)).all()


def test_rebalance_weights_favour_rare_bins():
    hist = np.ones(bins.num_bins())
    hist[0] = 1000.0
    w = bins.rebalance_weights(hist, lam=0.5)
    assert np.isfinite(w).all() and (w > 0).all()
    assert w[0] < 0.5 * np.median(w)
    np.testing.assert_allclose(bins.rebalance_weights(hist, lam=1.0), 1.0, rtol=1e-5)  # uniform prior: no rebalancing


def test_annealed_mean_of_a_peaked_distribution_is_that_bin():
    logits = np.full((1, bins.num_bins()), -20.0, np.float32)
    logits[0, 17] = 20.0
    ab = bins.annealed_mean(tf.constant(logits), temperature=0.38).numpy()
    np.testing.assert_allclose(ab[0], bins.bin_centers()[17], atol=1e-3)
    assert float(bins.spread(tf.constant(logits))[0]) < 1e-2


def test_the_bin_table_matches_its_construction():
    np.testing.assert_array_equal(bins.bin_centers(), bins.construct_bin_centers())
    assert bins.num_bins() == 263


def test_bins_work_when_first_used_inside_a_tf_function():
    """In a fresh process, a graph that needs the bin centres before anything else has touched them (the table
    used to be computed, eagerly, on first use: inside a tf.function that failed on symbolic tensors)."""
    import subprocess
    import sys
    code = ("import tensorflow as tf\nfrom colorize.model import bins\n"
            "f = tf.function(lambda z: bins.annealed_mean(z))\n"
            "print(f(tf.zeros([1, 263])).shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "(1, 2)"


def test_rebalancing_weights_that_keep_the_mean_add_no_colour_cast():
    """Plain rebalancing favours rare colours and so moves the expected colour towards the warm mean of the bins'
    grid; the tilted weights keep the histogram's own mean and still favour rare colours."""
    centers = bins.bin_centers()
    rng = np.random.default_rng(0)
    hist = np.exp(-np.square(centers - (2.0, 10.0)).sum(-1) / (2 * 15.0 ** 2)) * rng.uniform(0.5, 1.5, len(centers))
    kernel = np.exp(-np.square(centers[:, None] - centers[None]).sum(-1) / (2 * 5.0 ** 2))
    p = kernel @ (hist / hist.sum())
    p /= p.sum()

    def prior_mean(w):
        return (p * w) @ centers / (p * w).sum()
    plain, kept = bins.rebalance_weights(hist, 0.5), bins.rebalance_weights(hist, 0.5, keep_mean=True)
    assert np.abs(prior_mean(plain) - p @ centers).max() > 1.0
    np.testing.assert_allclose(prior_mean(kept), p @ centers, atol=1e-3)
    np.testing.assert_allclose((p * kept).sum(), 1.0, rtol=1e-5)
    rare, common = np.argmin(p), np.argmax(p)
    assert kept[rare] > 5 * kept[common]
