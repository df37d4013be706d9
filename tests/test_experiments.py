"""The exercises page: ``models/softmax_experiments.py --quick`` writes the page and every
figure it links, and the numbers it reports are sane.

The run trains on a subset of the real Fashion-MNIST, so it skips where the data set is not
installed (and fails instead when ``TINYGRAD_SM_REQUIRE_DATA`` is set, as in CI), and where
matplotlib is missing. It runs once for the whole module, in a few seconds.
"""
import math
import os
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the exercises page draws its figures with matplotlib")

from helpers import real_data_or_skip  # noqa: E402

from models import softmax_experiments as sx  # noqa: E402
from models.linear_regression import TRUE_B, TRUE_W  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One ``--quick`` run through ``main``: its exit status, output folder, page and numbers."""
    real_data_or_skip()
    out = tmp_path_factory.mktemp("exercises")
    recorded = {}

    def recording_run(*args, **kwargs):
        recorded.update(real_run(*args, **kwargs))
        return recorded

    real_run = sx.run
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sx, "run", recording_run)
        status = sx.main(["--quick", "--no-download", "--out", str(out)])
    page = (out / "exercises.md").read_text(encoding="utf-8") if status == 0 else ""
    return status, out, page, recorded


@pytest.mark.slow
def test_the_page_and_every_figure_it_links_are_written(quick):
    status, out, page, _ = quick
    assert status == 0
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert len(links) == 6, links
    for link in links:
        assert link.startswith("images/exercises/") and link.endswith(".png"), link
        path = out / link
        assert path.is_file(), f"{link} is linked from the page but was not written"
        assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 5000, link
    written = sorted(os.listdir(out / "images" / "exercises"))
    assert written == sorted(os.path.basename(link) for link in links), "a figure the page does not link"
    for n in range(1, 7):  # every section is there, with its settings and its conclusion
        assert re.search(rf"^## {n}\. ", page, re.M), f"section {n} is missing"
    assert page.count("**What was measured.**") == 6 and page.count("**Conclusion") == 6
    assert "--quick" in page  # the page says how it was made, and that its numbers are a quick run's


@pytest.mark.slow
def test_the_stable_softmax_is_right_where_the_naive_one_is_not(quick):
    r = quick[3]["softmax"]
    for case, v in r["cases"].items():
        stable, exact = np.array(v["stable"]), np.array(v["exact"])
        assert np.isfinite(stable).all(), case
        np.testing.assert_allclose(stable, exact, rtol=1e-5, atol=1e-30, err_msg=case)
    assert not np.isfinite(r["cases"]["an input of 100"]["naive"]).all()
    assert np.isnan(r["cases"]["largest below -104"]["naive"]).all()  # 0 / 0
    # just below -100 the naive one gives numbers, but wrong ones (subnormal exp)
    naive = np.array(r["cases"]["largest just below -100"]["naive"])
    assert np.isfinite(naive).all() and np.abs(naive - r["cases"]["largest just below -100"]["exact"]).max() > 0.01
    lo, hi = r["naive_finite_range"]
    assert -105 < lo < -100 and 88 < hi < 89  # where float32 exp underflows to 0 / overflows
    assert r["stable_max_rel_error"] < 1e-6


@pytest.mark.slow
def test_the_cross_entropy_forms_agree_until_a_probability_underflows(quick):
    r = quick[3]["cross_entropy"]
    fused = "fused: F.cross_entropy"
    for name, v in r["agreement"].items():
        assert v["max_abs_error"] < 1e-5 and v["grad_max_diff"] < 1e-6, (name, v)
    val_losses = [v["val_loss"] for v in r["training"].values()]
    assert max(val_losses) - min(val_losses) < 1e-4 * min(val_losses)  # they train alike
    assert r["large_lr"][fused]["diverged"] is None and math.isfinite(r["large_lr"][fused]["val_loss"])
    assert all(r["large_lr"][name]["diverged"] for name in sx.CE_VARIANTS if name != fused)
    broken = r["nonfinite_fraction"]
    assert broken[fused] == [0.0] * len(r["scales"])
    assert broken["book: -log softmax[i, y_i]"][-1] > 0
    assert all(d >= b for d, b in zip(broken["definition: -sum y log softmax"], broken["book: -log softmax[i, y_i]"]))
    for shape in r["timings"].values():
        assert all(0 < s < 1 for s in shape.values()), shape


@pytest.mark.slow
def test_the_sweeps_report_one_finite_result_per_setting(quick):
    status, out, page, results = quick
    lr = results["learning_rate"]
    assert list(lr["runs"]) == list(sx.QUICK.lrs) and lr["best_lr"] in sx.QUICK.lrs
    assert lr["runs"][lr["best_lr"]]["val_loss"][-1] < math.log(10)  # better than a uniform guess
    assert all(math.isfinite(v["val_loss"][-1]) for v in lr["runs"].values())
    bs = results["batch_size"]
    assert list(bs["runs"]) == list(sx.QUICK.batch_sizes)
    for batch_size, v in bs["runs"].items():
        assert v["steps"] == math.ceil(bs["train_size"] / batch_size) * sx.QUICK.bs_epochs
        assert v["seconds_per_epoch"] > 0 and math.isfinite(v["train_loss"]) and math.isfinite(v["val_loss"])
        assert 0 <= v["val_acc"] <= 1


@pytest.mark.slow
def test_zero_init_works_for_linear_regression_but_not_for_a_hidden_layer(quick):
    r = quick[3]["zero_init"]
    zero = r["linear"]["w = 0, b = 0"]
    assert np.abs(np.array(zero["w"]) - TRUE_W).max() < 0.01 and abs(zero["b"] - TRUE_B) < 0.01
    g = zero["first_grad"]
    assert abs(g[0] - g[1]) > 1  # equal weights, different gradients: the inputs differ
    equal = r["linear"]["all equal, w = b = 1"]
    assert np.abs(np.array(equal["w"]) - TRUE_W).max() < 0.01
    assert r["mlp"]["equal"]["distinct_units"] == 1 and r["mlp"]["equal"]["spread"] == 0
    assert r["mlp"]["zero"]["distinct_units"] == 1
    assert r["mlp"]["random"]["distinct_units"] > 1
    assert r["mlp"]["random"]["losses"][-1] < r["mlp"]["equal"]["losses"][-1] < r["mlp"]["zero"]["losses"][-1]


@pytest.mark.slow
def test_huber_loss_resists_the_outliers_that_pull_the_squared_loss(quick):
    runs = quick[3]["huber"]["runs"]
    squared, huber = runs[("5% outliers", "squared")], runs[("5% outliers", "Huber")]
    assert huber["b_err"][-1] < 0.1 < 0.5 < squared["b_err"][-1]
    clean = runs[("clean", "squared")]
    assert max(clean["w_err"][-1], clean["b_err"][-1]) < 0.01


def test_an_unusable_out_folder_is_one_line_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert sx.main(["--quick", "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is not a folder" in err and err.count("\n") == 1


def test_missing_data_names_the_folder(tmp_path, capsys):
    assert sx.main(["--quick", "--no-download", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "train-images-idx3-ubyte" in err
    assert not (tmp_path / "o").exists()  # nothing written
