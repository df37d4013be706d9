"""Checkpoints of modules and optimizers: what a damaged or crafted file does, temporary files,
file modes, and the optimizer's own save/load and state checks.

The crafted files here are built by hand (zip members with hand-written ``.npy`` headers), as an
attacker or a damaged disk would make them; each test says what it would cost without the check.
"""
import io
import os
import pickle
import signal
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn, optim, serialization
from tinygrad_sm.serialization import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


def linear(seed=0):
    tg.manual_seed(seed)
    return nn.Linear(3, 2)  # weight (2, 3), bias (2,), float32


def npy(descr, shape: tuple, data: bytes = b"", fortran: bool = False, version=(1, 0),
        pad_to: int = 0) -> bytes:
    """An .npy file with a hand-written header (``pad_to`` pads the header to that length)."""
    header = f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {shape!r}, }}".encode("latin1")
    length = max(pad_to, len(header) + 1)
    header = header.ljust(length - 1) + b"\n"
    size = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + size + header + data


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def good_members(model):
    """The members a real checkpoint of ``model`` holds, as bytes."""
    out = {}
    for name, value in model.state_dict().items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, value)
        out[name + ".npy"] = buffer.getvalue()
    return out


def assert_unchanged(model, before):
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# ---------------------------------------------------------------------- Module.load: checks first

def test_a_member_declaring_2_to_the_38_floats_is_a_value_error_not_a_memory_error(tmp_path):
    # 514 bytes that numpy.load would turn into a 1 TiB allocation.
    members = good_members(linear())
    members["weight.npy"] = npy("<f4", (524288, 524288))
    path = write_zip(tmp_path / "giant.npz", members)
    model = linear(1)
    before = model.state_dict()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"shape \(524288, 524288\)"):
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    assert_unchanged(model, before)


def test_a_deflate_bomb_is_refused_from_its_header(tmp_path):
    # A member that inflates to 128 MiB of zeros, in a file of about 130 KB: its header says so,
    # and is refused before a byte of data is inflated.
    path = tmp_path / "bomb.npz"
    n = 128 << 20
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("weight.npy", "w", force_zip64=True) as member:
            member.write(npy("<f4", (2, n // 8)))
            zeros = bytes(1 << 20)
            for _ in range(n >> 20):
                member.write(zeros)
        zf.writestr("bias.npy", good_members(linear())["bias.npy"])
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="'weight' has shape"):
            linear().load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


@pytest.mark.parametrize("fault, member, error, message", [
    ("complex weights", npy("<c16", (2, 3), bytes(96)), TypeError, r"'weight' has dtype complex128 .* real numbers"),
    ("bool weights", npy("|b1", (2, 3), bytes(6)), TypeError, r"'weight' has dtype bool"),
    ("a string array", npy("<U3", (2, 3), bytes(72)), ValueError, r"has dtype <U3; only arrays of numbers"),
    ("a structured dtype", npy([("a", "<f4")], (2, 3), bytes(24)), ValueError, "only arrays of numbers"),
    ("a short member", npy("<f4", (2, 3), bytes(20)), ValueError,
     r"is 90 bytes long, but its header declares shape \(2, 3\) float32 = 24 bytes of data after 70"),
    ("a long member", npy("<f4", (2, 3), bytes(28)), ValueError, "is 98 bytes long"),
    ("a header of 60000 bytes", npy("<f4", (2, 3), bytes(24), version=(2, 0), pad_to=60000), ValueError, "damaged .npy header"),
    ("a header declaring 4 GiB", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'", ValueError, "damaged .npy header"),
    ("a header that is code", npy("<f4", "__import__('os')", bytes(24)), ValueError, "damaged .npy header"),
    ("a member too short for the magic", b"\x93NUM", ValueError, "damaged .npy header"),
    ("an .npy version 3 header", npy("<f4", (2, 3), bytes(24), version=(3, 0)), ValueError, "version 3.0"),
])
def test_crafted_members_are_refused_before_their_data_is_read(tmp_path, fault, member, error, message):
    members = good_members(linear())
    members["weight.npy"] = member
    path = write_zip(tmp_path / "crafted.npz", members)
    model = linear(1)
    before = model.state_dict()
    with pytest.raises(error, match=message) as info:
        model.load(path)
    assert str(path) in str(info.value)
    assert_unchanged(model, before)


def test_a_pickled_object_array_is_never_unpickled(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([Payload(), Payload()], dtype=object), allow_pickle=True)
    assert pickle.loads  # the payload is a real pickle: numpy.load(allow_pickle=True) would run it
    members = good_members(linear())
    members["bias.npy"] = buffer.getvalue()
    path = write_zip(tmp_path / "pickle.npz", members)
    with pytest.raises(ValueError, match="Python objects .* pickles"):
        linear().load(path)
    assert not marker.exists()


def test_names_are_checked_before_any_header_is_read(tmp_path):
    # An unexpected name is reported as such even when that member's header is garbage.
    members = good_members(linear())
    members["extra.npy"] = b"garbage"
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        linear().load(write_zip(tmp_path / "extra.npz", members))
    del members["extra.npy"], members["bias.npy"]
    with pytest.raises(KeyError, match=r"missing keys \['bias'\]"):
        linear().load(write_zip(tmp_path / "missing.npz", members))


@pytest.mark.parametrize("fault", ["a member that is not .npy", "two members of one name",
                                   "a bzip2 member", "an encrypted member"])
def test_odd_zip_members_are_refused(tmp_path, fault):
    path = tmp_path / "odd.npz"
    members = good_members(linear())
    if fault == "a member that is not .npy":
        members["notes.txt"] = b"hello"
        write_zip(path, members)
    elif fault == "two members of one name":
        write_zip(path, members)
        with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as zf:
            zf.writestr("bias.npy", members["bias.npy"])
    elif fault == "a bzip2 member":  # decompressed without a size bound by zipfile: never read
        write_zip(path, members, compression=zipfile.ZIP_BZIP2)
    else:
        write_zip(path, members)
        data = bytearray(path.read_bytes())
        for offset in range(len(data) - 4):  # set the "encrypted" flag in every local and central entry
            if data[offset:offset + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
                flag_at = offset + (6 if data[offset + 2] == 3 else 8)
                data[flag_at] |= 1
        path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"cannot read checkpoint .*odd\.npz"):
        linear().load(path)


def test_a_damaged_byte_of_data_is_caught_by_the_crc(tmp_path):
    path = tmp_path / "m.npz"
    linear().save(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"\n", data.index(b"weight.npy")) + 3  # inside the weight's data
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC"):
        linear().load(path)


def test_a_file_longer_than_any_checkpoint_of_the_model_is_refused_unparsed(tmp_path):
    path = tmp_path / "long.npz"
    limit = serialization.max_npz_size([6, 2])
    path.write_bytes(b"\0" * (limit + 1))
    with pytest.raises(ValueError, match=f"more than a file holding the expected arrays can be \\({limit}"):
        linear().load(path)


@pytest.mark.parametrize("fault, message", [
    ("nan", r"'weight' holds NaN or inf in the checkpoint"),
    ("overflow", r"'weight' holds NaN or inf in the checkpoint \(once cast to float32\)"),
])
def test_weights_that_are_not_finite_are_refused(tmp_path, fault, message):
    state = linear().state_dict()
    state["weight"] = np.full((2, 3), np.nan, np.float32) if fault == "nan" else np.full((2, 3), 1e300)
    path = tmp_path / "m.npz"
    np.savez(path, **state)
    model = linear(1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert_unchanged(model, before)


def test_numpys_own_layouts_load(tmp_path):
    # Big-endian, Fortran order, float64 and a compressed archive are all fine.
    source = linear(1).state_dict()
    path = tmp_path / "numpy.npz"
    np.savez_compressed(path, weight=np.asfortranarray(source["weight"].astype(">f8")),
                        bias=source["bias"].astype(np.float64))
    model = linear(2).load(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, source[name])
        assert value.dtype == np.float32


@pytest.mark.parametrize("damage", ["not a zip", "a bare .npy", "empty", "a directory"])
def test_unreadable_files_name_the_path(tmp_path, damage):
    path = tmp_path / "m.npz"
    if damage == "not a zip":
        path.write_bytes(b"PK not really")
    elif damage == "a bare .npy":
        np.save(tmp_path / "m.npy", np.zeros(3))
        (tmp_path / "m.npy").rename(path)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.mkdir()
    error = IsADirectoryError if damage == "a directory" else ValueError
    with pytest.raises(error, match=str(path)):
        linear().load(path)


# ---------------------------------------------------------------------- temporary files and modes

def temporaries(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.startswith("."))


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_temporary_files_are_removed_by_the_next_save_and_only_those(tmp_path):
    dead, alive = dead_pid(), os.getpid()
    hour_ago = time.time() - 2 * serialization.STALE_AFTER
    names = {
        f".m.npz.{dead}.0123abcd.tmp": "removed",         # its process is gone
        f".m.npz.{alive}.89abcdef.tmp": "kept",           # a save in progress
        f".m.npz.{alive}.456789ab.tmp": "removed old",    # alive, but untouched for too long
        ".m.npz.ab_c1234.tmp": "removed old",             # an earlier version's name, old
        ".m.npz.zz_y5678.tmp": "kept",                    # an earlier version's name, recent
        f".other.npz.{dead}.0123abcd.tmp": "kept",        # another file's
        f"m.npz.{dead}.0123abcd.tmp": "kept",             # not hidden: not our pattern
        f".m.npz.{dead}.0123abcd.tmp.bak": "kept",        # not our pattern
        f".m.npz.{dead}.0123ABCD.tmp": "kept",            # not our pattern
        ".m.npz.notours.tmp": "kept",
    }
    for name, fate in names.items():
        (tmp_path / name).write_bytes(b"partial")
        if fate == "removed old":
            os.utime(tmp_path / name, (hour_ago, hour_ago))
    (tmp_path / f".m.npz.{dead}.fedcba98.tmp").mkdir()  # a folder of that name is not ours to remove
    linear().save(tmp_path / "m.npz")
    left = set(os.listdir(tmp_path))
    for name, fate in names.items():
        assert (name in left) == (fate == "kept"), name
    assert f".m.npz.{dead}.fedcba98.tmp" in left and "m.npz" in left


def test_sigkill_during_a_save_leaves_a_file_that_the_next_save_removes(tmp_path):
    script = (
        "import os, signal, sys\n"
        "import numpy as np\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import tinygrad_sm as tg\n"
        "from tinygrad_sm import nn\n"
        "def write_then_die(f, array, **kwargs):\n"
        "    f.write(b'partial' * 1000)\n"
        "    f.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "np.lib.format.write_array = write_then_die\n"
        f"nn.Linear(3, 2).save({str(tmp_path / 'm.npz')!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr
    left = temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(".m.npz.") and left[0].endswith(".tmp")
    linear().save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_get_the_mode_an_ordinary_write_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        model = linear()
        model.save(tmp_path / "m.npz")
        optim.SGD(model.parameters(), lr=0.1).save(tmp_path / "o.npz")
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert (tmp_path / "plain").stat().st_mode & 0o777 == expected
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == expected
    assert (tmp_path / "o.npz").stat().st_mode & 0o777 == expected


def test_replacing_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    linear().save(path)
    path.chmod(0o640)
    linear(1).save(path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_saved_together_commits_all_or_nothing(tmp_path):
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.save(tmp_path / "m.npz")
    opt.save(tmp_path / "o.npz")
    before = {name: (tmp_path / name).read_bytes() for name in ("m.npz", "o.npz")}
    with pytest.raises(RuntimeError, match="after the first"):
        with serialization.saved_together():
            linear(5).save(tmp_path / "m.npz")
            raise RuntimeError("after the first")
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "o.npz"]
    with serialization.saved_together():
        linear(5).save(tmp_path / "m.npz")
        assert (tmp_path / "m.npz").read_bytes() == before["m.npz"]  # not yet in place
        optim.SGD(model.parameters(), lr=0.5).save(tmp_path / "o.npz")
    assert optim.SGD(model.parameters(), lr=0.1).load(tmp_path / "o.npz").lr == 0.5
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "o.npz"]


# ---------------------------------------------------------------------- Optimizer.save / load

def train(model, opt, x, y, steps):
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


MAKERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.01),
}


@pytest.mark.parametrize("kind", list(MAKERS))
def test_optimizer_save_and_load_continue_the_same_trajectory(kind, tmp_path):
    make = MAKERS[kind]
    tg.manual_seed(1)
    x, y = tg.randn(16, 3), tg.randn(16, 2)
    reference = linear(2)
    reference_opt = make(reference.parameters())
    train(reference, reference_opt, x, y, 5)

    first = linear(2)
    first_opt = make(first.parameters())
    train(first, first_opt, x, y, 2)
    first.save(tmp_path / "model.npz")
    first_opt.save(tmp_path / "opt.npz")

    resumed = linear(7).load(tmp_path / "model.npz")
    resumed_opt = make(resumed.parameters())
    resumed_opt.lr = 123.0  # overwritten by the load
    assert resumed_opt.load(tmp_path / "opt.npz") is resumed_opt
    assert resumed_opt.state_dict()["hyperparameters"] == first_opt.state_dict()["hyperparameters"]
    train(resumed, resumed_opt, x, y, 3)
    for name, value in reference.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value)


def test_optimizer_files_are_plain_npz_without_pickles(tmp_path):
    model = linear()
    opt = optim.Adam(model.parameters(), lr=0.01)
    opt.save(tmp_path / "fresh.npz")
    with np.load(tmp_path / "fresh.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["hyperparameters.betas", "hyperparameters.eps",
                                     "hyperparameters.lr", "hyperparameters.weight_decay"]
    train(model, opt, tg.randn(4, 3), tg.randn(4, 2), 2)
    opt.save(tmp_path / "trained.npz")
    with np.load(tmp_path / "trained.npz", allow_pickle=False) as npz:
        assert npz["state.0.step"] == 2 and npz["state.1.exp_avg_sq"].shape == (2,)
        assert npz["hyperparameters.betas"].tolist() == [0.9, 0.999]
    # An optimizer without state yet loads the state of one that has some, and the other way.
    fresh = optim.Adam(linear().parameters()).load(tmp_path / "trained.npz")
    assert fresh.state[0]["step"] == 2
    assert fresh.load(tmp_path / "fresh.npz").state == [{}, {}]


def trained_adam_file(tmp_path, name="adam.npz"):
    model = linear()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, tg.randn(4, 3), tg.randn(4, 2), 2)
    opt.save(tmp_path / name)
    with np.load(tmp_path / name) as npz:
        return tmp_path / name, dict(npz)


@pytest.mark.parametrize("change, error, message", [
    ({"state.0.step": np.array(-1)}, ValueError, r"'step' of parameter 0 must be a non-negative integer.*got -1"),
    ({"state.0.step": np.array(1.5)}, TypeError, r"'state.0.step' has dtype float64"),
    ({"state.0.exp_avg": np.full((2, 3), np.nan, np.float32)}, ValueError, "'exp_avg' of parameter 0 holds NaN or inf"),
    ({"state.0.exp_avg_sq": -np.ones((2, 3), np.float32)}, ValueError, "'exp_avg_sq' of parameter 0 holds negative values"),
    ({"state.0.exp_avg": np.ones((2, 3), np.complex64)}, TypeError, r"'state.0.exp_avg' has dtype complex64"),
    ({"state.0.exp_avg": np.ones((3, 2), np.float32)}, ValueError, r"'state.0.exp_avg' has shape \(3, 2\), expected \(2, 3\)"),
    ({"hyperparameters.lr": np.array(-1.0)}, ValueError, "lr must be > 0, got -1.0"),
    ({"hyperparameters.betas": np.array([0.9, 1.0])}, ValueError, r"betas\[1\] must be in \[0, 1\)"),
    ({"hyperparameters.betas": np.array(0.9)}, ValueError, r"'hyperparameters.betas' has shape \(\), expected \(2,\)"),
    ({"state.0.step": None}, KeyError, r"missing keys \['state.0.step'\]"),
    ({"state.2.step": np.array(1)}, KeyError, r"unexpected keys \['state.2.step'\]"),
    ({"hyperparameters.momentum": np.array(0.9)}, KeyError, r"unexpected keys \['hyperparameters.momentum'\]"),
])
def test_optimizer_load_checks_every_field_and_changes_nothing_on_failure(tmp_path, change, error, message):
    path, arrays = trained_adam_file(tmp_path)
    for key, value in change.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    np.savez(path, **arrays)
    model = linear()
    opt = optim.Adam(model.parameters(), lr=0.5)
    train(model, opt, tg.randn(4, 3), tg.randn(4, 2), 1)
    before = opt.state_dict()
    with pytest.raises(error, match=message) as info:
        opt.load(path)
    assert str(path) in str(info.value)
    after = opt.state_dict()
    assert after["hyperparameters"] == before["hyperparameters"]
    assert after["state"][0]["step"] == 1
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])
    train(model, opt, tg.randn(4, 3), tg.randn(4, 2), 1)  # and it still steps


def test_an_sgd_file_does_not_load_into_adam(tmp_path):
    model = linear()
    optim.SGD(model.parameters(), lr=0.1, momentum=0.9).save(tmp_path / "sgd.npz")
    with pytest.raises(KeyError, match=r"missing keys \['hyperparameters.betas', 'hyperparameters.eps'\]"):
        optim.Adam(model.parameters()).load(tmp_path / "sgd.npz")


def test_optimizer_load_of_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        optim.SGD(linear().parameters(), lr=0.1).load(tmp_path / "absent.npz")


def test_optimizer_load_refuses_a_giant_member(tmp_path):
    path, arrays = trained_adam_file(tmp_path)
    members = {}
    for key, value in arrays.items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, value)
        members[key + ".npy"] = buffer.getvalue()
    members["state.0.exp_avg.npy"] = npy("<f4", (524288, 524288))
    write_zip(path, members)
    with pytest.raises(ValueError, match=r"'state.0.exp_avg.npy' is 80 bytes long, but its header declares shape \(524288, 524288\)"):
        optim.Adam(linear().parameters()).load(path)


# ---------------------------------------------------------------------- load_state_dict: every field

def adam_state():
    model = linear()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, tg.randn(4, 3), tg.randn(4, 2), 2)
    return model, opt.state_dict()


@pytest.mark.parametrize("step", [-1, 1.5, True, "3", np.float64(2.0)])
def test_adam_step_must_be_a_non_negative_int(step):
    model, state = adam_state()
    state["state"][0]["step"] = step
    opt = optim.Adam(model.parameters())
    with pytest.raises(ValueError, match=r"'step' of parameter 0 must be a non-negative integer"):
        opt.load_state_dict(state)
    assert opt.state == [{}, {}]


def test_adam_step_zero_and_numpy_ints_are_accepted_and_step_runs():
    model, state = adam_state()
    state["state"][0]["step"] = 0
    state["state"][1]["step"] = np.int64(7)
    opt = optim.Adam(model.parameters())
    opt.load_state_dict(state)
    assert opt.state[0]["step"] == 0 and type(opt.state[1]["step"]) is int
    train(model, opt, tg.randn(4, 3), tg.randn(4, 2), 1)
    assert opt.state[0]["step"] == 1 and np.isfinite(model.weight.numpy()).all()


@pytest.mark.parametrize("field, value, error, message", [
    ("exp_avg", np.full((2, 3), np.inf), ValueError, "holds NaN or inf"),
    ("exp_avg", np.full((2, 3), 1e300), ValueError, r"holds NaN or inf \(once cast to float32\)"),
    ("exp_avg_sq", np.full((2, 3), -1.0), ValueError, "negative"),
    ("exp_avg", np.ones((2, 3), complex), TypeError, "dtype complex128"),
    ("exp_avg", np.array([["a"] * 3] * 2), TypeError, "dtype <U1"),
    ("exp_avg", np.ones((2, 3), bool), TypeError, "dtype bool"),
    ("exp_avg", np.ones(6), ValueError, r"shape \(6,\)"),
])
def test_adam_buffers_are_checked(field, value, error, message):
    model, state = adam_state()
    state["state"][0][field] = value
    with pytest.raises(error, match=message):
        optim.Adam(model.parameters()).load_state_dict(state)


def test_sgd_nesterov_must_be_a_bool_and_state_a_list():
    model = linear()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    state = opt.state_dict()
    state["hyperparameters"]["nesterov"] = 1
    with pytest.raises(TypeError, match="'nesterov' must be True or False, got 1"):
        opt.load_state_dict(state)
    state["hyperparameters"]["nesterov"] = False
    with pytest.raises(TypeError, match="'state' must be a list"):
        opt.load_state_dict({**state, "state": "abc"})
