"""Generation: unconditional ink from a prediction network (section 4.1) and text-conditioned
ink from a synthesis network (section 5), several lines as one batch.

Bias b >= 0 sharpens the mixture (section 5.4). A synthesis line ends when the
window has moved past its last character (section 5.3: phi(t, U+1) above every
phi(t, u)) and the pen lifts, or at a cap of steps per character, so lines
neither scribble on nor run forever. Priming (section 5.5) runs the network
over given strokes with their text first, then writes in their style.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hwcli.errors import UsageError
from hwcli.models import mdn
from hwcli.models.checkpoint import LoadedModel
from hwcli.models.lstm import LSTMStepper

# The bias `hw write` uses unless told otherwise: of 0, 0.5, 0.75 and 1.0 it gave the
# shipped model the lowest mean character error rate (bench/legibility.py, docs/model-card.md).
DEFAULT_BIAS = 0.75
# A line may take at most this many times the data's average steps per character,
# then it is cut: the backstop for the stopping rule (section 5.3).
MAX_PACE = 3.0
# After the window passes the last character, let the pen finish its stroke,
# for at most this many characters' worth of steps.
FINISH_PACE = 1.0


@dataclass
class Prime:
    """Strokes (stroke-3 offsets, source units) and their text, to write in their style."""

    offsets: np.ndarray  # (N, 3)
    text: str


def _fast_cpu_math() -> None:
    # Window weights far from kappa underflow into float32 denormals, whose
    # arithmetic takes a slow path on x86; flushed to zero they change nothing.
    torch.set_flush_denormal(True)


def one_hot(codes: list[np.ndarray], alphabet_size: int, length: int) -> torch.Tensor:
    """(B, length, A) one-hot rows, zero past each text's end."""
    text = torch.zeros(len(codes), length, alphabet_size)
    for b, c in enumerate(codes):
        text[b, torch.arange(len(c)), torch.as_tensor(c)] = 1.0
    return text


class SynthesisStepper:
    """The synthesis network one step at a time, batched, for sampling."""

    def __init__(self, network, text: torch.Tensor):
        self.net = network
        self.text = text  # (B, U+1, A): one zero row past the longest text for phi(t, U+1)
        self.positions = torch.arange(1, text.shape[1] + 1, dtype=text.dtype)
        B = text.shape[0]
        self.window_state = network.window_layer.initial_state(B, text.shape[2], text.device)
        self.w_input = network.window_layer.w_input.t().contiguous()
        self.upper = [LSTMStepper(layer) for layer in network.upper.layers]
        self.upper_state = [None] * len(self.upper)

    def step(self, x: torch.Tensor):
        """x (B, 3) normalised -> y_hat (B, 1+6M), phi (B, U+1)."""
        layer1 = self.net.window_layer
        gates_x = torch.addmm(layer1.bias, x, self.w_input)
        self.window_state, phi = layer1.step(gates_x, self.window_state, self.text, self.positions)
        h, w = self.window_state[0], self.window_state[3]
        side = torch.cat([x, w], dim=1)
        outputs, below = [h], h
        for n, layer in enumerate(self.upper):
            below, self.upper_state[n] = layer(torch.cat([side, below], dim=1), self.upper_state[n])
            outputs.append(below)
        return self.net.output(torch.cat(outputs, dim=1)), phi


def _denormalise(x: np.ndarray, model: LoadedModel) -> np.ndarray:
    out = x.astype(np.float32).copy()
    out[:, :2] = out[:, :2] * model.std.numpy() + model.mean.numpy()
    return out


def normalise(offsets: np.ndarray, model: LoadedModel) -> torch.Tensor:
    """Stroke-3 offsets in source units -> the network's input units (the model's mean and std)."""
    x = torch.as_tensor(offsets, dtype=torch.float32).clone()
    x[:, :2] = (x[:, :2] - model.mean) / model.std
    return x


@torch.no_grad()
def write_lines(model: LoadedModel, texts: list[str], bias: float = 0.0, seed: int | None = None,
                prime: Prime | None = None, return_phi: bool = False):
    """Text -> ink, one line per text, sampled as one batch.

    Returns a list of stroke-3 arrays (source units, y up), and with
    `return_phi` also a list of (T, U) window weights and a list of
    (stopped_by_rule: bool) per line.
    """
    if model.kind != "synthesis":
        raise UsageError("this model is a prediction network: it cannot write text; use `hw sample`")
    if not texts or any(not t.strip() for t in texts):
        raise UsageError("nothing to write: the text is empty")
    from hwcli.data.alphabet import Alphabet

    _fast_cpu_math()
    alphabet = Alphabet(model.alphabet)
    net = model.network
    device = next(net.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else int(torch.randint(0, 2**31, (1,))))
    prefix = (prime.text + " ") if prime else ""
    codes = [alphabet.encode(prefix + t) for t in texts]
    B = len(texts)
    lengths = torch.tensor([len(c) for c in codes])
    U = int(lengths.max())
    text = one_hot(codes, alphabet.size, U + 1).to(device)
    stepper = SynthesisStepper(net, text)
    x = torch.zeros(B, 3, device=device)
    if prime is not None:
        primed = normalise(prime.offsets, model).to(device)
        for row in primed[:-1]:
            stepper.step(row.expand(B, 3))
        x = primed[-1].expand(B, 3).clone()
    pace = net.config.steps_per_char
    new_chars = torch.tensor([len(alphabet.encode(t)) for t in texts], dtype=torch.float32)
    cap = (MAX_PACE * pace * new_chars).long() + 1
    finish_cap = max(1, int(FINISH_PACE * pace))
    max_steps = int(cap.max())
    rows, phis = [], []
    done = torch.zeros(B, dtype=torch.bool)
    past_end = torch.full((B,), -1, dtype=torch.long)  # step at which the rule fired
    stopped_by_rule = torch.zeros(B, dtype=torch.bool)
    end_steps = torch.full((B,), max_steps, dtype=torch.long)
    text_mask = torch.arange(U + 1).unsqueeze(0) < lengths.unsqueeze(1)  # (B, U+1): real characters
    for t in range(max_steps):
        y_hat, phi = stepper.step(x)
        x = mdn.sample(y_hat, net.config.mixtures, bias, generator)
        rows.append(x.cpu())
        phi_cpu = phi.cpu()
        if return_phi:
            phis.append(phi_cpu)
        # Section 5.3: stop when phi(t, U+1) exceeds phi(t, u) for every character u.
        beyond = phi_cpu.gather(1, lengths.unsqueeze(1)).squeeze(1)
        within = phi_cpu.masked_fill(~text_mask, -1.0).max(1).values
        # A line already cut at its cap keeps stepping with the batch: its window may still pass
        # the end, but that must not count as the rule having stopped it.
        fired = (beyond > within) & (past_end < 0) & ~done
        past_end[fired] = t
        stopped_by_rule |= fired
        pen_up = x[:, 2].cpu() > 0.5
        finished = ~done & (((past_end >= 0) & (pen_up | (t - past_end >= finish_cap))) | (t + 1 >= cap))
        end_steps[finished] = t + 1
        done |= finished
        if bool(done.all()):
            break
    samples = torch.stack(rows, 1).numpy()  # (B, T, 3)
    lines = []
    for b in range(B):
        ink = samples[b, : int(end_steps[b])].copy()
        ink[-1, 2] = 1.0  # the line's last stroke ends where the line ends
        lines.append(_denormalise(ink, model))
    if not return_phi:
        return lines
    phi_all = torch.stack(phis, 1).numpy() if phis else np.zeros((B, 0, U + 1))
    windows = [phi_all[b, : int(end_steps[b]), : int(lengths[b])] for b in range(B)]
    return lines, windows, stopped_by_rule.tolist()


@torch.no_grad()
def sample_free(model: LoadedModel, steps: int = 700, lines: int = 1, bias: float = 0.0, seed: int | None = None):
    """Unconditional ink from a prediction network (section 4.1): `lines` stroke-3 arrays of `steps` points."""
    if model.kind != "prediction":
        raise UsageError("this model is a synthesis network: it writes text; use `hw write`")
    if steps < 1 or lines < 1:
        raise UsageError("--steps and --lines must be at least 1")
    _fast_cpu_math()
    net = model.network
    device = next(net.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else int(torch.randint(0, 2**31, (1,))))
    layers = [LSTMStepper(layer) for layer in net.lstm.layers]
    states = [None] * len(layers)
    x = torch.zeros(lines, 3, device=device)
    rows = []
    for _ in range(steps):
        outputs, below = [], None
        for n, layer in enumerate(layers):
            below, states[n] = layer(x if below is None else torch.cat([x, below], dim=1), states[n])
            outputs.append(below)
        x = mdn.sample(net.output(torch.cat(outputs, dim=1)), net.config.mixtures, bias, generator)
        rows.append(x.cpu())
    samples = torch.stack(rows, 1).numpy()
    out = []
    for b in range(lines):
        ink = samples[b].copy()
        ink[-1, 2] = 1.0
        out.append(_denormalise(ink, model))
    return out
