"""Self-describing checkpoints: round trips, half precision, and files that are not ours."""

from __future__ import annotations

import pytest
import torch

from hwcli.errors import ModelError
from hwcli.models import checkpoint as ckpt
from hwcli.models.prediction import PredictionConfig, PredictionNetwork
from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork

ALPHABET = " abcdefg"  # index 0 is "other": alphabet_size = len + 1


def synthesis() -> SynthesisNetwork:
    torch.manual_seed(0)
    return SynthesisNetwork(SynthesisConfig(alphabet_size=len(ALPHABET) + 1, hidden=8, layers=2, mixtures=3, window_mixtures=2))


def prediction() -> PredictionNetwork:
    torch.manual_seed(1)
    return PredictionNetwork(PredictionConfig(hidden=8, layers=2, mixtures=3))


def inputs(alphabet_size: int):
    torch.manual_seed(2)
    text = torch.nn.functional.one_hot(torch.randint(0, alphabet_size, (2, 4)), alphabet_size).float()
    return torch.randn(2, 11, 3), text


def save(path, network, alphabet="", half=False, **extra):
    checkpoint = ckpt.checkpoint_dict(network, alphabet, [0.5, -0.25], [2.0, 3.0], {"epochs": 1}, half=half)
    checkpoint.update(extra)
    ckpt.save(path, checkpoint)
    return path


@pytest.mark.parametrize("make", [synthesis, prediction])
def test_round_trip_gives_identical_outputs(make, tmp_path):
    network = make().eval()
    alphabet = ALPHABET if network.kind == "synthesis" else ""
    x, text = inputs(network.config.alphabet_size if network.kind == "synthesis" else 3)
    loaded = ckpt.load(save(tmp_path / "m.pt", network, alphabet), "cpu")
    assert loaded.kind == network.kind and loaded.alphabet == alphabet
    assert loaded.network.config == network.config
    assert not loaded.network.training
    torch.testing.assert_close(loaded.mean, torch.tensor([0.5, -0.25]))
    torch.testing.assert_close(loaded.std, torch.tensor([2.0, 3.0]))
    assert loaded.info == {"epochs": 1}
    with torch.no_grad():
        assert torch.equal(loaded.network(x, text)[0], network(x, text)[0])
    for (name, a), (_, b) in zip(network.state_dict().items(), loaded.network.state_dict().items()):
        assert torch.equal(a, b), name


def test_state_dict_keys_are_those_of_the_bare_model(tmp_path):
    """No wrapper prefixes (DDP's `module.`, torch.compile's `_orig_mod.`) in what is saved."""
    network = prediction()
    wrapped = torch.nn.Module()
    wrapped.module = network
    keys = set(ckpt.checkpoint_dict(wrapped, "", [0, 0], [1, 1], {})["state_dict"])
    assert keys == set(network.state_dict())


def test_half_precision_saves_half_and_loads_float32(tmp_path):
    network = synthesis().eval()
    path = save(tmp_path / "half.pt", network, ALPHABET, half=True)
    stored = torch.load(path, weights_only=True)["state_dict"]
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    loaded = ckpt.load(path)
    assert all(p.dtype == torch.float32 for p in loaded.network.parameters())
    x, text = inputs(network.config.alphabet_size)
    with torch.no_grad():
        torch.testing.assert_close(loaded.network(x, text)[0], network(x, text)[0], rtol=1e-2, atol=1e-2)
    assert path.stat().st_size < save(tmp_path / "full.pt", network, ALPHABET).stat().st_size


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    save(tmp_path / "sub" / "m.pt", prediction())
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["m.pt"]


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no checkpoint at"):
        ckpt.load(tmp_path / "absent.pt")


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.pt"
    path.write_bytes(b"\x00garbage, not a zip or pickle" * 10)
    with pytest.raises(ModelError, match="not a readable hw checkpoint"):
        ckpt.load(path)


def test_truncated_checkpoint(tmp_path):
    path = save(tmp_path / "m.pt", prediction())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelError, match="not a readable hw checkpoint"):
        ckpt.load(path)


def test_torch_file_that_is_not_ours(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"model": {"weight": torch.zeros(3)}, "epoch": 4}, path)
    with pytest.raises(ModelError, match="is not an hw checkpoint"):
        ckpt.load(path)
    torch.save(torch.zeros(3), path)
    with pytest.raises(ModelError, match="is not an hw checkpoint"):
        ckpt.load(path)


def test_pickled_module_is_refused_without_running_code(tmp_path):
    """weights_only loading: a whole pickled module is refused, not executed."""
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(ModelError, match="not a readable hw checkpoint"):
        ckpt.load(path)


def test_newer_format_version(tmp_path):
    path = save(tmp_path / "future.pt", prediction(), format_version=ckpt.FORMAT_VERSION + 1)
    with pytest.raises(ModelError, match=r"newer hw .*upgrade hw"):
        ckpt.load(path)


def test_weights_that_do_not_match_the_config(tmp_path):
    checkpoint = ckpt.checkpoint_dict(prediction(), "", [0, 0], [1, 1], {})
    checkpoint["config"]["hidden"] = 9
    ckpt.save(tmp_path / "bad.pt", checkpoint)
    with pytest.raises(ModelError, match="does not match its own configuration"):
        ckpt.load(tmp_path / "bad.pt")


def test_unknown_kind(tmp_path):
    checkpoint = ckpt.checkpoint_dict(prediction(), "", [0, 0], [1, 1], {})
    checkpoint["kind"] = "transformer"
    ckpt.save(tmp_path / "kind.pt", checkpoint)
    with pytest.raises(ModelError, match="unknown model kind"):
        ckpt.load(tmp_path / "kind.pt")
