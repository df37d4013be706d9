"""Shared test setup: hypothesis profiles and the ``device`` parametrization.

Hypothesis profiles
    ``ci`` (loaded when the ``CI`` environment variable is set): no deadline, since a shared CI
    machine's timing says nothing about our code, a fixed derandomized sequence so that a run
    is repeatable, and enough examples per property to find shape bugs while the core suite
    stays well under two minutes on two cores.
    ``dev`` (otherwise): fewer examples, for a quick edit-test loop.
    ``HYPOTHESIS_PROFILE=ci`` (or ``dev``) picks one explicitly, whatever ``CI`` says.

Devices
    Tests that take the ``device`` fixture run once per device. ``"cuda"`` is skipped, with the
    reason shown, unless ``tinygrad_sm.cuda_available()`` (CuPy installed and a GPU visible).
"""
import os

# The tests' matrices are small, and CI has two cores: one BLAS thread is the fastest, and the
# only setting whose speed does not collapse when other processes want the cores too. Set
# before NumPy is first imported (below, through tinygrad_sm), where BLAS reads it.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings

import tinygrad_sm as tg

settings.register_profile(
    "ci", deadline=None, max_examples=100, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "dev", deadline=None, max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") else "dev"))

CUDA_SKIP_REASON = ("device 'cuda' needs CuPy and an NVIDIA GPU, and "
                    "tinygrad_sm.cuda_available() is False here")
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=[
        pytest.mark.cuda, pytest.mark.skipif(not tg.cuda_available(), reason=CUDA_SKIP_REASON)]),
]


# Session scope: hypothesis rejects function-scoped fixtures in @given tests, and a device name
# is a constant anyway.
@pytest.fixture(params=DEVICES, scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """The device a test runs on: "cpu", and "cuda" where there is a GPU."""
    return request.param
