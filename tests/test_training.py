"""Training end to end: resume is exact and bad batches are skipped (on synthetic lines,
conftest.py's `tiny_dataset`), the loss falls on the real IAM-OnDB sample (`sample_dataset`,
skipped without ../shared); plus the clipping of paper section 4 and the batches.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hwcli.data import dataset as datasets
from hwcli.data.ink import coarsen
from hwcli.errors import UsageError
from hwcli.models import checkpoint as ckpt
from hwcli.models import lstm, mdn
from hwcli.models.prediction import PredictionConfig, PredictionNetwork
from hwcli.training import loop, session
from hwcli.training.batches import Batch, TrainingData, prepare
from hwcli.training.loop import TrainOptions

TINY = dict(hidden=16, layers=2, mixtures=3, window_mixtures=2)


def train(kind, data, model_dir, resume=False, sizes=TINY, stride=4, callback=lambda event, **data: None, **options):
    options = TrainOptions(**{"epochs": 3, "batch_size": 8, "lr": 1e-2, "precision": "fp32", **options})
    return session.run(kind, data, model_dir, dict(sizes), options, "cpu", resume=resume, stride=stride,
                       min_char_count=1, callback=callback)


def weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)["state_dict"]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


# --- learning ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prediction", "synthesis"])
def test_validation_loss_falls(kind, sample_dataset, tmp_path):
    summary = train(kind, sample_dataset, tmp_path / kind, stride=2)
    losses = [epoch["nats_per_line"] for epoch in summary["history"]]
    print(kind, "validation nats/line by epoch:", [round(x, 1) for x in losses])
    assert summary["status"] == "done" and summary["epochs"] == 3 and summary["skipped"] == 0
    assert summary["steps"] == 3 * math.ceil(137 / 8)
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0] - 50  # tens of nats per line better after three epochs
    assert summary["best_validation"] == min(losses)
    best, last = ckpt.read(tmp_path / kind / "best.pt"), ckpt.read(tmp_path / kind / "last.pt")
    assert best["info"]["best_validation"] == min(losses)
    assert last["training"]["state"]["epoch"] == 3 and last["training"]["state"]["global_step"] == summary["steps"]
    model = ckpt.load(tmp_path / kind / "best.pt")
    assert model.kind == kind and (model.alphabet != "") == (kind == "synthesis")
    if kind == "synthesis":  # the window's initial pace comes from the data
        assert model.network.config.steps_per_char > 5


# --- resume -----------------------------------------------------------------------------------------


RESUME_CASES = [("prediction", "adam"), ("prediction", "rmsprop"), ("synthesis", "adam")]


@pytest.mark.parametrize("kind,optimizer", RESUME_CASES)
@pytest.mark.parametrize("stop_after", [3, 4])  # at an epoch's end, and one batch into the next epoch
def test_resume_gives_identical_weights(kind, optimizer, stop_after, tiny_dataset, tmp_path):
    straight = train(kind, tiny_dataset, tmp_path / "straight", optimizer=optimizer)
    assert straight["steps"] == 9

    first = train(kind, tiny_dataset, tmp_path / "resumed", optimizer=optimizer, max_steps=stop_after)
    assert first["status"] == "max_steps" and first["steps"] == stop_after
    state = ckpt.read(tmp_path / "resumed" / "last.pt")["training"]["state"]
    assert (state["epoch"], state["batch_in_epoch"]) == divmod(stop_after, 3)
    second = train(kind, tiny_dataset, tmp_path / "resumed", resume=True, optimizer=optimizer)
    assert second["status"] == "done" and second["steps"] == 9

    assert_same_weights(tmp_path / "straight" / "last.pt", tmp_path / "resumed" / "last.pt")
    assert_same_weights(tmp_path / "straight" / "best.pt", tmp_path / "resumed" / "best.pt")
    assert [e["nats_per_line"] for e in second["history"]] == [e["nats_per_line"] for e in straight["history"]]


def test_resume_keeps_the_rate_unless_given_a_new_one(tiny_dataset, tmp_path):
    """--resume alone continues at the run's own rate; --lr with --resume sets a new one (say, to finish lower)."""
    model_dir = tmp_path / "rates"
    train("prediction", tiny_dataset, model_dir, epochs=1, lr=None)  # the default rate
    train("prediction", tiny_dataset, model_dir, resume=True, epochs=2, lr=None)
    summary = train("prediction", tiny_dataset, model_dir, resume=True, epochs=3, lr=2e-4)
    assert [epoch["lr"] for epoch in summary["history"]] == [1e-3, 1e-3, 2e-4]
    last = ckpt.read(model_dir / "last.pt")["training"]
    assert [group["lr"] for group in last["optimizer"]["param_groups"]] == [2e-4]
    assert last["options"]["lr"] == 2e-4


def test_ctrl_c_saves_and_resume_is_exact(tiny_dataset, tmp_path):
    """Ctrl-C in the middle of an epoch: last.pt is written first, and --resume ends where a straight run does."""
    train("prediction", tiny_dataset, tmp_path / "straight")

    def interrupt(event, **data):
        if event == "step" and data.get("skipped") is not None:
            interrupt.steps += 1
            if interrupt.steps == 5:
                raise KeyboardInterrupt

    interrupt.steps = 0
    stopped = train("prediction", tiny_dataset, tmp_path / "resumed", callback=interrupt)
    assert stopped["status"] == "interrupted" and stopped["steps"] == 5
    state = ckpt.read(tmp_path / "resumed" / "last.pt")["training"]["state"]
    assert (state["epoch"], state["batch_in_epoch"], state["global_step"]) == (1, 2, 5)
    train("prediction", tiny_dataset, tmp_path / "resumed", resume=True)
    assert_same_weights(tmp_path / "straight" / "last.pt", tmp_path / "resumed" / "last.pt")


def test_resume_continues_with_more_epochs(tiny_dataset, tmp_path):
    train("prediction", tiny_dataset, tmp_path / "m", epochs=1)
    summary = train("prediction", tiny_dataset, tmp_path / "m", resume=True, epochs=2)
    assert summary["epochs"] == 2 and summary["steps"] == 6 and len(summary["history"]) == 2


def test_a_second_run_needs_resume(tiny_dataset, tmp_path):
    from hwcli.errors import UsageError

    train("prediction", tiny_dataset, tmp_path / "m", max_steps=1)
    with pytest.raises(UsageError, match="--resume"):
        train("prediction", tiny_dataset, tmp_path / "m", max_steps=1)


def test_resume_of_the_other_kind_is_refused(tiny_dataset, tmp_path):
    from hwcli.errors import ModelError

    train("prediction", tiny_dataset, tmp_path / "m", max_steps=1)
    with pytest.raises(ModelError, match="no resumable synthesis"):
        train("synthesis", tiny_dataset, tmp_path / "m", resume=True)


@pytest.mark.parametrize("change", [{"optimizer": "rmsprop"}, {"batch_size": 4}, {"seed": 1}])
def test_resume_keeps_the_runs_own_order_and_optimiser(change, tiny_dataset, tmp_path):
    """Batch size and seed set the batch order, the optimiser its state: resume takes them from the
    checkpoint, whatever is asked (issue 17; the CLI says which options it ignores)."""
    train("prediction", tiny_dataset, tmp_path / "m", max_steps=1)
    train("prediction", tiny_dataset, tmp_path / "m", resume=True, max_steps=2, **change)
    saved = torch.load(tmp_path / "m" / "last.pt", weights_only=True)["training"]
    assert saved["options"]["optimizer"] == "adam" and saved["options"]["batch_size"] == 8
    assert saved["options"]["seed"] == 0 and saved["state"]["global_step"] == 2


# --- non-finite batches -----------------------------------------------------------------------------


def snapshot_on_steps(network_holder: list):
    """A callback that keeps a copy of the weights after every optimiser step."""
    snapshots = []

    def callback(event, **data):
        if event == "step":
            snapshots.append({k: v.clone() for k, v in network_holder[0].state_dict().items()})

    return snapshots, callback


@pytest.fixture
def capture_network(monkeypatch):
    """The network session.run builds, kept for inspection."""
    holder = []
    build = ckpt.build_network

    def keep(kind, config):
        network = build(kind, config)
        holder.append(network)
        return network

    monkeypatch.setattr(ckpt, "build_network", keep)
    return holder


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_non_finite_batch_is_skipped_counted_and_never_saved(where, tiny_dataset, tmp_path, monkeypatch, capture_network):
    """A NaN loss (or a NaN gradient with a finite loss) on the 2nd training batch: no step, counted, not saved."""
    original = loop.batch_loss
    calls = {"train": 0}

    def poisoned(network, batch, mixtures, clip):
        loss, nll, steps = original(network, batch, mixtures, clip)
        if clip:  # training batches only (validation runs without clipping)
            calls["train"] += 1
            if calls["train"] == 2:
                if where == "loss":
                    loss = loss * float("nan")
                else:
                    zero = next(network.parameters()).sum() * 0.0
                    zero.register_hook(lambda grad: grad * float("nan"))
                    loss = loss + zero
        return loss, nll, steps

    monkeypatch.setattr(loop, "batch_loss", poisoned)
    snapshots, callback = snapshot_on_steps(capture_network)
    summary = train("prediction", tiny_dataset, tmp_path / "m", epochs=1, callback=callback)
    assert summary["status"] == "done" and summary["skipped"] == 1 and summary["steps"] == 3
    for key in snapshots[0]:
        assert torch.equal(snapshots[0][key], snapshots[1][key]), f"the bad batch changed {key}"
        assert not torch.equal(snapshots[1][key], snapshots[2][key]), f"the next batch did not train {key}"
    for name in ("last.pt", "best.pt"):
        saved = ckpt.read(tmp_path / "m" / name)
        assert all(torch.isfinite(v).all() for v in saved["state_dict"].values()), name
        assert saved["training"]["state"]["skipped"] == 1
        assert all(torch.isfinite(v).all() for s in saved["training"]["optimizer"]["state"].values()
                   for v in s.values() if torch.is_tensor(v))
    assert math.isfinite(summary["history"][0]["nats_per_line"])


# --- clipping (paper section 4) ---------------------------------------------------------------------


class RawOutputs(torch.nn.Module):
    """A stand-in network whose outputs y_hat are free parameters: y_hat.grad is what reaches the network."""

    def __init__(self, y_hat: torch.Tensor):
        super().__init__()
        self.y_hat = torch.nn.Parameter(y_hat)
        self.grad_clip = None

    def forward(self, x, text=None, state=None, return_phi=False, grad_clip=0.0):
        self.grad_clip = grad_clip
        return self.y_hat * 1.0, None, None


def sharp_batch(M: int = 2):
    """Tiny sigmas and targets far from mu: dNLL/dmu ~ (x - mu) / sigma^2, far beyond 100 per step."""
    B, T = 2, 5
    y_hat = torch.zeros(B, T, 1 + 6 * M)
    y_hat[..., 1 + 3 * M : 1 + 5 * M] = -4.0  # sigma = exp(-4)
    targets = torch.zeros(B, T, 3)
    targets[..., 0] = 1.0
    mask = torch.ones(B, T)
    mask[1, 3:] = 0  # padding: 8 predicted steps in all
    return y_hat, Batch(torch.zeros(B, T, 3), targets, mask, None), M


def test_output_derivatives_are_clipped():
    y_hat, batch, M = sharp_batch()
    steps = float(batch.mask.sum())
    free = RawOutputs(y_hat.clone())
    loss, _, _ = loop.batch_loss(free, batch, M, clip=False)
    loss.backward()
    unclipped = free.y_hat.grad.clone()

    clipped_net = RawOutputs(y_hat.clone())
    loss, _, n = loop.batch_loss(clipped_net, batch, M, clip=True)
    loss.backward()
    limit = loop.OUTPUT_GRAD_CLIP / steps  # the loss is a per-step mean, the paper's limit is per line sum
    assert float(n) == steps
    assert unclipped.abs().max() > 10 * limit  # the case really needs clipping
    torch.testing.assert_close(clipped_net.y_hat.grad, unclipped.clamp(-limit, limit))
    assert clipped_net.y_hat.grad.abs().max() == pytest.approx(limit)
    # the LSTM limit travels to the network, scaled the same way
    assert clipped_net.grad_clip == pytest.approx(loop.LSTM_GRAD_CLIP / steps)
    assert free.grad_clip == 0.0


def test_clip_gradient_clamps_only_the_backward_pass():
    x = torch.tensor([0.5, -2.0, 3.0], requires_grad=True)
    y = lstm.clip_gradient(x * 1.0, 2.0)
    torch.testing.assert_close(y, x)
    (y * torch.tensor([1.0, -100.0, 100.0])).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([1.0, -2.0, 2.0]))


def test_lstm_outputs_derivatives_are_clipped_in_a_real_network(monkeypatch):
    """Every layer's h gets the clamp; with big output weights the gradient would exceed it without."""
    seen = []

    def recording_clip(tensor, limit):
        if tensor.requires_grad:
            before = {}
            tensor.register_hook(lambda grad: before.update(max=grad.abs().max()))  # returns None: grad unchanged
            clip(tensor, limit)
            tensor.register_hook(lambda grad: seen.append((limit, before["max"], grad.abs().max())))
        return tensor

    clip = lstm.clip_gradient
    monkeypatch.setattr(lstm, "clip_gradient", recording_clip)
    torch.manual_seed(0)
    network = PredictionNetwork(PredictionConfig(hidden=8, layers=3, mixtures=2))
    with torch.no_grad():
        network.output.weight.mul_(10.0)
    batch = Batch(torch.randn(2, 6, 3), torch.randn(2, 6, 3).clamp(-1, 1).abs().round(), torch.ones(2, 6), None)
    loss, _, steps = loop.batch_loss(network, batch, 2, clip=True)
    assert torch.isfinite(loss)
    loss.backward()
    limit = loop.LSTM_GRAD_CLIP / float(steps)
    assert len(seen) == 3, seen  # one clamp per layer
    assert all(l == pytest.approx(limit) and after <= limit + 1e-9 for l, _, after in seen)
    assert any(before > limit for _, before, _ in seen)


def test_training_reaches_the_clips(tiny_dataset, tmp_path, monkeypatch):
    """session.run trains with clip=True and evaluates without."""
    flags = []
    original = loop.batch_loss
    monkeypatch.setattr(loop, "batch_loss", lambda *a, **k: flags.append(a[3] if len(a) > 3 else k["clip"]) or original(*a, **k))
    train("prediction", tiny_dataset, tmp_path / "m", epochs=1)
    assert flags[:3] == [True, True, True] and set(flags[3:]) == {False}


# --- batches and data preparation -------------------------------------------------------------------


def test_batches_shift_targets_and_mask_padding():
    """Lines of 4 and 2 points: 3 and 1 targets, padded to the step grid (16) and the text grid (8)."""
    lines = [np.arange(12, dtype=np.float32).reshape(4, 3), np.arange(6, dtype=np.float32).reshape(2, 3)]
    data = TrainingData(lines, [np.array([1, 2, 3]), np.array([2])], alphabet_size=4)
    batch = data.batch([0, 1])
    assert batch.inputs.shape == batch.targets.shape == (2, 16, 3)
    assert torch.equal(batch.inputs[0, :3], torch.from_numpy(lines[0][:-1]))
    assert torch.equal(batch.targets[0, :3], torch.from_numpy(lines[0][1:]))
    assert batch.inputs[:, 4:].abs().sum() == 0 and batch.targets[1, 1:].abs().sum() == 0  # zeros past each line
    assert batch.mask.tolist() == [[1, 1, 1] + [0] * 13, [1] + [0] * 15]
    assert batch.text.shape == (2, 8, 4)
    assert batch.text[0].argmax(-1)[:3].tolist() == [1, 2, 3] and batch.text[0, 3:].sum() == 0
    assert batch.text[1, 0, 2] == 1 and batch.text[1, 1:].sum() == 0
    assert data.steps == 4


@pytest.mark.parametrize("kind", ["prediction", "synthesis"])
def test_the_padding_to_the_shape_grid_changes_no_loss_and_no_gradient(kind):
    """The same batch cut back to its real length (no padding beyond the longest line and text)
    gives the same loss and the same gradient for every weight."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    lines = [np.c_[rng.normal(size=(n, 2)), rng.random(n) < 0.2].astype(np.float32) for n in (21, 13, 9)]
    texts = [rng.integers(0, 5, n) for n in (3, 5, 2)]
    if kind == "synthesis":
        from hwcli.models.synthesis import SynthesisConfig, SynthesisNetwork

        network = SynthesisNetwork(SynthesisConfig(alphabet_size=5, hidden=8, layers=2, mixtures=2, window_mixtures=2))
    else:
        network = PredictionNetwork(PredictionConfig(hidden=8, layers=2, mixtures=2))
    data = TrainingData(lines, texts if kind == "synthesis" else None, 5 if kind == "synthesis" else 0)
    padded = data.batch([0, 1, 2])
    assert padded.inputs.shape[1] == 32 and padded.mask.shape[1] == 32  # 20 steps, rounded up to the grid
    text = None if padded.text is None else padded.text[:, :5]
    cut = Batch(padded.inputs[:, :20], padded.targets[:, :20], padded.mask[:, :20], text)
    results = []
    for batch in (padded, cut):
        network.zero_grad()
        loss, _, steps = loop.batch_loss(network, batch, 2, clip=True)
        loss.backward()
        results.append((float(loss.detach()), float(steps), [p.grad.clone() for p in network.parameters()]))
    (loss_a, steps_a, grads_a), (loss_b, steps_b, grads_b) = results
    assert steps_a == steps_b == 20 + 12 + 8
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_buckets_hold_similar_lengths_and_every_line_once():
    rng = np.random.default_rng(0)
    lines = [np.zeros((n, 3), np.float32) for n in rng.integers(2, 500, 50)]
    data = TrainingData(lines, None, 0)
    buckets = data.buckets(8)
    assert sorted(np.concatenate(buckets).tolist()) == list(range(50))
    lengths = [data.lengths[b] for b in buckets]
    assert all(a.max() <= b.min() for a, b in zip(lengths, lengths[1:]))


def test_epoch_order_is_a_function_of_seed_and_epoch():
    assert loop.epoch_order(20, 0, 3) == loop.epoch_order(20, 0, 3)
    assert sorted(loop.epoch_order(20, 0, 3)) == list(range(20))
    assert loop.epoch_order(20, 0, 3) != loop.epoch_order(20, 0, 4)
    assert loop.epoch_order(20, 1, 3) != loop.epoch_order(20, 0, 3)


def test_statistics_are_computed_after_coarsening(tiny_dataset):
    data = datasets.load(tiny_dataset)
    train_part, valid_part, alphabet, mean, std, steps_per_char = prepare(data, 2, True, 1)
    raw = [coarsen(data.line(i), 2) for i in data.indices(datasets.TRAIN)]
    assert sum(len(line) for line in raw) < 0.6 * sum(len(data.line(i)) for i in data.indices(datasets.TRAIN))
    xy = np.concatenate([line[:, :2] for line in raw])
    np.testing.assert_allclose(mean, xy.mean(0), rtol=1e-6)
    np.testing.assert_allclose(std, xy.std(0), rtol=1e-6)
    normalised = np.concatenate([line[:, :2] for line in train_part.lines])
    np.testing.assert_allclose(normalised.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(normalised.std(0), 1, atol=1e-4)
    assert len(train_part) == 24 and len(valid_part) == 8 and alphabet.size > 20
    assert steps_per_char == pytest.approx(sum(len(line) for line in raw) / sum(len(t) for t in data.texts[:24]))


@pytest.mark.parametrize("kind", ["prediction", "synthesis"])
def test_bf16_autocast_trains(kind, tiny_dataset, tmp_path):
    summary = train(kind, tiny_dataset, tmp_path / "m", epochs=1, max_steps=2, precision="bf16")
    assert summary["steps"] == 2 and summary["skipped"] == 0
    assert all(torch.isfinite(v).all() for v in weights(tmp_path / "m" / "last.pt").values())


def test_precision_auto_follows_the_hardware(monkeypatch):
    """auto is bf16 exactly where bf16_pays; fp32 and bf16 are what they say; the default is auto."""
    cpu = torch.device("cpu")
    assert TrainOptions().precision == "auto"
    assert loop.autocast_dtype("fp32", cpu) is None and loop.autocast_dtype("bf16", cpu) is torch.bfloat16
    for pays in (True, False):
        monkeypatch.setattr(loop, "bf16_pays", lambda device: pays)
        assert loop.autocast_dtype("auto", cpu) is (torch.bfloat16 if pays else None)
    with pytest.raises(UsageError, match="precision"):
        loop.autocast_dtype("fp16", cpu)


def test_nll_is_computed_in_float32_under_autocast():
    y_hat = torch.randn(2, 3, 1 + 6 * 2).bfloat16()
    nll = mdn.negative_log_likelihood(y_hat, torch.zeros(2, 3, 3), 2)
    assert nll.dtype == torch.float32
