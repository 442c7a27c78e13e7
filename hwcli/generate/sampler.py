"""Generation: unconditional ink from a prediction network (section 4.1) and text-conditioned
ink from a synthesis network (section 5), several lines as one batch.

Bias b >= 0 sharpens the mixture (section 5.4). A synthesis line ends when the
window has moved past its last character (section 5.3: phi(t, U+1) above every
phi(t, u)) and the pen lifts, or at a cap of steps per character, so lines
neither scribble on nor run forever. Priming (section 5.5) runs the network
over given strokes with their text first, then writes in their style; strokes
that write the prime's own text again are cut from the start of each line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from hwcli.errors import UsageError
from hwcli.generate.lifts import LiftSteer, lift_rate
from hwcli.generate.stepper import Stepper, one_hot
from hwcli.models.checkpoint import LoadedModel

if TYPE_CHECKING:
    from hwcli.generate.priming import Prime

# The bias `hw write` uses unless told otherwise in the model's own and the built-in styles
# (the user's ink takes config.DEFAULT_STYLE_BIAS: priming.bias_for): of 0.5, 0.75 and 1.0 it
# gave the shipped model the lowest character error rate on the selection sentences
# (bench/choose_bias.py, docs/model-card.md); higher reads a little better still but every
# letter comes out alike. (hwcli/config.py holds it, torch-free, for the CLI's --help.)
from hwcli.config import DEFAULT_BIAS, SIGNATURE_POINTS, check  # noqa: E402 - the one source of defaults
# A line may take at most this many times the data's average steps per character,
# then it is cut: the backstop for the stopping rule (section 5.3).
MAX_PACE = 3.0
# After the window passes the last character, let the pen finish its stroke,
# for at most this many characters' worth of steps.
FINISH_PACE = 1.0
# A stroke of at most this many points when the window passes the end was begun
# after the last character: a stray mark, dropped (docs/model-card.md, failure modes).
STRAY_POINTS = 2
# A sample whose window held its first character for more than this many characters' worth
# of steps stalled at its start: after a prime the pen can crawl there and the letter come
# out a dot. Kept only when every sample of the line did (_most_typical).
STALL_PACE = 3.0


def sample_mixture(y_hat: np.ndarray, mixtures: int, bias: float, rng: np.random.Generator,
                   lift_shift: np.ndarray | None = None) -> np.ndarray:
    """Draw x_{t+1} from the mixture (section 4.1), in numpy for the step-by-step sampler.

    y_hat (B, 1+6M) -> (B, 3); the same parameters as models/mdn.split_params, bias included.
    `lift_shift` (B,) is added to the end-of-stroke logit (lifts.LiftSteer).
    """
    M, B = mixtures, y_hat.shape[0]
    pi = y_hat[:, 1 : 1 + M] * (1.0 + bias)
    pi = np.exp(pi - pi.max(1, keepdims=True))
    cumulative = np.cumsum(pi, axis=1)  # (B, M), unnormalised
    uniform = rng.random((2, B), dtype=np.float32)
    j = (cumulative < uniform[0, :, None] * cumulative[:, -1:]).sum(1).clip(max=M - 1)  # (B,) component
    # The chosen component's (pi_hat, mu1, mu2, sigma_hat1, sigma_hat2, rho_hat) in one gather.
    _, mu1, mu2, s1, s2, rho = y_hat[:, 1:].reshape(B, 6, M)[np.arange(B), :, j].T
    s1, s2, rho = np.exp(s1 - bias), np.exp(s2 - bias), np.tanh(rho)
    n1, n2 = rng.standard_normal((2, B), dtype=np.float32)
    x = np.empty((B, 3), np.float32)
    x[:, 0] = mu1 + s1 * n1
    x[:, 1] = mu2 + s2 * (rho * n1 + np.sqrt(np.maximum(1 - rho * rho, 0)) * n2)
    e_hat = y_hat[:, 0] if lift_shift is None else y_hat[:, 0] - lift_shift
    x[:, 2] = uniform[1] * (1 + np.exp(e_hat)) < 1  # end of stroke with e = 1 / (1 + exp(e_hat))
    return x


@dataclass
class Written:
    """What `write_lines` returns: one entry per text, in order."""

    lines: list[np.ndarray]  # stroke-3 offsets, source units, y up
    stopped_by_rule: list[bool]  # the stopping rule ended the line (else its step cap did)
    windows: list[np.ndarray] | None = None  # (T, U) window weights phi, with return_phi
    predictions: list[np.ndarray] | None = None  # (T, 1+6M) y_hat point t was drawn from, with return_phi
    prime: PrimeReading | None = None  # how the window read the prime's ink, when there was one
    dwell: list[np.ndarray] | None = None  # steps the window spent on each character of each text
    # The character of its text each stroke of a line began on (the window's focus; below 0:
    # still on the prime's text or the space after it): where the words begin (likeness.respace).
    stroke_chars: list[np.ndarray] | None = None


@dataclass
class PrimeReading:
    """Where the window was while the network read a prime's ink: a check that ink and text match.

    A matching prime ends with the window on its last character or past it, and passes the
    end no sooner than the last character's strokes.
    """

    length: int  # characters in the prime's text
    reached: int  # characters the window had passed or held when the ink ended (0..length)
    early_steps: int  # steps of ink left after the window first passed the end

    @classmethod
    def of(cls, focus: np.ndarray, length: int) -> PrimeReading:
        """focus (T,): the character holding the window at each step of the ink (length: past the end)."""
        past = np.flatnonzero(focus >= length)
        reached = length if len(past) else int(focus.max(initial=-1)) + 1
        return cls(length, reached, int(len(focus) - past[0]) if len(past) else 0)

    def mismatch(self, steps_per_char: float) -> str | None:
        """One line for the user when the ink and its text do not seem to match, else None."""
        unread = self.length - self.reached
        if unread > max(2, 0.1 * self.length):
            return f"the window read only {self.reached} of the style text's {self.length} characters from its ink"
        if self.early_steps > 3 * steps_per_char:
            return f"the window read the style text's {self.length} characters well before its ink ended"
        return None


def _finished_line(x: np.ndarray, model: LoadedModel) -> np.ndarray:
    """Sampled (T, 3) normalised offsets -> a line in source units whose last stroke ends with it."""
    out = x.astype(np.float32)  # a copy: the caller's sample buffer stays as it is
    out[:, :2] = out[:, :2] * model.std.numpy() + model.mean.numpy()
    out[-1, 2] = 1.0
    return out


def normalise(offsets: np.ndarray, model: LoadedModel) -> torch.Tensor:
    """Stroke-3 offsets in source units -> the network's input units (the model's mean and std)."""
    x = torch.as_tensor(offsets, dtype=torch.float32).clone()
    x[:, :2] = (x[:, :2] - model.mean) / model.std
    return x


def _rng(seed: int | None) -> np.random.Generator:
    # No seed: fresh ink each run, drawn from torch's global generator so torch.manual_seed still pins it.
    return np.random.default_rng(seed if seed is not None else int(torch.randint(0, 2**31, (1,))))


def write_lines(model: LoadedModel, texts: list[str], bias: float = 0.0, seed: int | None = None,
                prime: Prime | None = None, return_phi: bool = False, candidates: int = 1,
                match_lifts: bool = False) -> Written:
    """Text -> ink, one line per text, sampled as one batch (on the CPU: see stepper.py).
    With `return_phi` the result also holds each line's window weights. With `candidates`
    > 1 each text is sampled that many times in the batch and the most usual sample is kept
    (`_most_typical`; config.DEFAULT_CANDIDATES says why). With `match_lifts` and a prime
    whose ink matches its text, the lines lift the pen as often as the prime (lifts.py)."""
    if model.kind != "synthesis":
        raise UsageError("this model is a prediction network: it cannot write text; use `hw sample`")
    check("bias", bias)
    check("seed", seed)
    check("candidates", candidates)
    if not texts or any(not t.strip() for t in texts):
        raise UsageError("nothing to write: the text is empty")
    written = _sample_lines(model, texts, candidates, bias, seed, prime, return_phi, match_lifts)
    return _most_typical(written, candidates, model.network.config.steps_per_char) if candidates > 1 else written


def _most_typical(written: Written, candidates: int, pace: float | None = None) -> Written:
    """Of each text's `candidates` consecutive lines, the one whose steps on each character are
    closest to the candidates' median for it (log ratios, summed; the first on a tie). A line
    that stays on a letter scribbles or writes it again; one that hurries past drops it. With
    the model's `pace` (steps per character), lines that stalled at their start (STALL_PACE)
    are passed over unless all did: when most stall, the median is a stalled line."""
    keep = []
    for k in range(0, len(written.lines), candidates):
        dwell = np.stack(written.dwell[k : k + candidates]).astype(np.float64)
        typical = np.median(dwell, axis=0)
        distance = np.abs(np.log((dwell + 1) / (typical + 1))).sum(1)
        stalled = dwell[:, 0] > STALL_PACE * pace if pace is not None and dwell.shape[1] else np.zeros(len(dwell), bool)
        if not stalled.all():
            distance[stalled] = np.inf
        keep.append(k + int(np.argmin(distance)))
    pick = lambda rows: [rows[k] for k in keep] if rows is not None else None  # noqa: E731
    return Written(pick(written.lines), pick(written.stopped_by_rule), pick(written.windows),
                   pick(written.predictions), written.prime, pick(written.dwell), pick(written.stroke_chars))


def _sample_lines(model: LoadedModel, texts: list[str], copies: int, bias: float, seed: int | None,
                  prime: Prime | None, return_phi: bool, match_lifts: bool) -> Written:
    """Each text sampled `copies` times, as consecutive lines of one batch."""
    from hwcli.data.alphabet import Alphabet

    alphabet = Alphabet(model.alphabet)
    net = model.network
    rng = _rng(seed)
    prefix = (prime.text + " ") if prime else ""  # section 5.5: the new text follows the prime's
    gap = len(prefix) - 1  # the space between the prime's text and the new (-1: no prime)
    text_codes = [alphabet.encode(prefix + t) for t in texts]
    U = max(len(c) for c in text_codes)
    # One zero row past the longest text for phi(t, U+1). The prime is read once per text: the
    # stepper is copied to all its lines after.
    stepper = Stepper(net, len(texts), one_hot(text_codes, alphabet.size, U + 1))
    lengths = np.array([len(c) for c in text_codes for _ in range(copies)])  # one per line of the batch
    B = len(lengths)
    x = np.zeros((B, 3), np.float32)
    reading = None
    if prime is not None:
        x[:], reading = _read_prime(stepper, normalise(prime.offsets, model).numpy(), gap)
    stepper.repeat(copies)
    pace = net.config.steps_per_char
    # Ink whose text is off gives no rate per character to match.
    steer = None
    if match_lifts and prime is not None and reading.mismatch(pace) is None:
        steer = LiftSteer(lift_rate(prime.hand_lines), [prefix + t for t in texts for _ in range(copies)], gap, U + 1)
    new_chars = lengths - len(prefix)
    cap = (MAX_PACE * pace * new_chars).astype(int) + 1
    finish_cap = max(1, int(FINISH_PACE * pace))
    max_steps = int(cap.max())
    samples = np.zeros((max_steps, B, 3), np.float32)
    phis = np.zeros((max_steps, B, U + 1), np.float32) if return_phi else None
    predictions = np.zeros((max_steps, B, net.output.out_features), np.float32) if return_phi else None
    done = np.zeros(B, bool)
    past_end = np.full(B, -1)  # step at which the rule fired
    stopped_by_rule = np.zeros(B, bool)
    end_steps = np.full(B, max_steps)
    last_pen_up = np.full(B, -1)  # the step of each line's latest end of stroke
    beyond_at = (np.arange(B), lengths)  # phi(t, U+1) of each line
    outside_text = np.arange(U + 1)[None, :] >= lengths[:, None]  # (B, U+1): no real character
    focus = np.zeros((max_steps, B), np.int32)  # the character holding the window at each step
    for t in range(max_steps):
        y_hat, phi = stepper.step(x)
        focus[t] = phi.argmax(1)
        shift = steer.shift(focus[t]) if steer else None
        x = samples[t] = sample_mixture(y_hat, net.config.mixtures, bias, rng, shift)
        pen_up = x[:, 2] > 0.5
        if steer:
            steer.count(pen_up)
        if return_phi:
            phis[t], predictions[t] = phi, y_hat
        # Section 5.3: stop when phi(t, U+1) exceeds phi(t, u) for every character u.
        beyond = phi[beyond_at]
        phi[outside_text] = -1.0
        # A line already cut at its cap keeps stepping with the batch: its window may still pass
        # the end, but that must not count as the rule having stopped it.
        fired = (beyond > phi.max(1)) & (past_end < 0) & ~done
        past_end[fired] = t
        stopped_by_rule |= fired
        finished = ~done & (((past_end >= 0) & (pen_up | (t - past_end >= finish_cap))) | (t + 1 >= cap))
        end_steps[finished] = t + 1
        stray = fired & ~pen_up & (last_pen_up >= 0) & (t - last_pen_up <= STRAY_POINTS)
        end_steps[stray] = last_pen_up[stray] + 1  # end at the pen-up before the stray stroke
        done |= finished | stray
        last_pen_up[pen_up] = t
        if done.all():
            break
    starts = np.zeros(B, int)
    if prime is not None:  # strokes that write the prime's text again are not the new text's
        starts = np.array([_after_prime_strokes(samples[: end_steps[b], b], focus[: end_steps[b], b], gap)
                           for b in range(B)])
    dwell = [np.bincount(focus[starts[b] : end_steps[b], b], minlength=U + 1)[gap + 1 : lengths[b]] for b in range(B)]
    lines = [_finished_line(_cut(samples[: end_steps[b], b], starts[b]), model) for b in range(B)]
    stroke_chars = [_stroke_starts(line, focus[starts[b] : end_steps[b], b]) - len(prefix) for b, line in enumerate(lines)]
    windows = [phis[starts[b] : end_steps[b], b, : lengths[b]] for b in range(B)] if return_phi else None
    drawn_from = [predictions[starts[b] : end_steps[b], b] for b in range(B)] if return_phi else None
    return Written(lines, stopped_by_rule.tolist(), windows, drawn_from, reading, dwell, stroke_chars)


def _stroke_starts(line: np.ndarray, focus: np.ndarray) -> np.ndarray:
    """The window's focus at the first point of each stroke of a finished line (stroke-3, its
    last point a pen-up), one per stroke as ink.offsets_to_strokes splits them."""
    return focus[np.r_[0, np.flatnonzero(line[:-1, 2] > 0.5) + 1]]


def _after_prime_strokes(x: np.ndarray, focus: np.ndarray, gap: int) -> int:
    """The first step of a primed line's writing, past its leading strokes that ended with the
    window still on the prime's text or the space after it (`gap`): a window that lagged at the
    end of the prime's ink writes the prime's last letters again ("e" of "there" before the new
    words). 0 when there are none, and when no stroke ever reached the new text."""
    ends = np.flatnonzero(x[:, 2] > 0.5)
    leading = 0
    while leading < len(ends) and focus[ends[leading]] <= gap:
        leading += 1
    if leading == len(ends) or leading == 0:
        return 0
    return int(ends[leading - 1]) + 1


def _cut(x: np.ndarray, start: int) -> np.ndarray:
    """x[start:], its first offset carrying the ones cut, so that the pen starts where it was."""
    if start == 0:
        return x
    out = x[start:].copy()
    out[0, :2] += x[:start, :2].sum(0)
    return out


def best_prime(model: LoadedModel, primes: list[Prime]) -> Prime:
    """Of several lines of a writer's ink, the one whose window reads its text most exactly:
    fewest characters unread, then fewest steps of ink past the end, then the longest text."""
    if len(primes) == 1:
        return primes[0]
    from hwcli.data.alphabet import Alphabet

    alphabet, pace = Alphabet(model.alphabet), model.network.config.steps_per_char

    def misread(prime: Prime):
        codes = alphabet.encode(prime.text)
        stepper = Stepper(model.network, 1, one_hot([codes], alphabet.size, len(codes) + 1))
        reading = _read_prime(stepper, normalise(prime.offsets, model).numpy(), len(codes))[1]
        return reading.length - reading.reached + reading.early_steps / pace, -reading.length

    return min(primes, key=misread)


def _read_prime(stepper: Stepper, ink: np.ndarray, length: int):
    """Run the network over a prime's normalised ink (section 5.5), its text of `length`
    characters first in the stepper's text -> the first input after it, and how far the
    window read the text while the ink went by."""
    focus = np.zeros(len(ink) - 1, int)
    for t, row in enumerate(ink[:-1]):
        _, phi = stepper.step(np.broadcast_to(row, (stepper.row.shape[0], 3)))
        focus[t] = phi[0].argmax()  # `length` and beyond: past the prime's text
    return ink[-1], PrimeReading.of(focus, length)


def signature_end(model: LoadedModel) -> int | None:
    """For a signature model (trained on SVC2004): the points after which `hw sample` ends at the
    model's next pen-up, so it draws one signature; None for a handwriting model."""
    return SIGNATURE_POINTS if (model.info or {}).get("source") == "SVC2004" else None


def sample_free(model: LoadedModel, steps: int = 700, lines: int = 1, bias: float = 0.0, seed: int | None = None,
                stop_after: int | None = None, progress=None):
    """Unconditional ink from a prediction network (section 4.1): `lines` stroke-3 arrays of `steps` points.

    With `stop_after`, a line ends instead at the first pen-up (end of stroke) after that many
    points, `steps` being its cap: the prediction network has no end token, so this lets the
    model end its own stroke (one signature: signature_end). `progress(done, steps)` is called
    every PROGRESS_EVERY steps."""
    if model.kind != "prediction":
        raise UsageError("this model is a synthesis network: it writes text; use `hw write`")
    check("steps", steps)
    check("bias", bias)
    check("seed", seed)
    if not isinstance(lines, int) or lines < 1:
        raise UsageError(f"lines must be a whole number >= 1, not {lines!r}")
    if stop_after is not None and (not isinstance(stop_after, int) or stop_after < 1):
        raise UsageError(f"stop_after must be a whole number >= 1, not {stop_after!r}")
    net = model.network
    rng = _rng(seed)
    stepper = Stepper(net, lines)
    samples = np.zeros((steps, lines, 3), np.float32)
    x = np.zeros((lines, 3), np.float32)
    ends = np.full(lines, steps)
    for t in range(steps):
        x = samples[t] = sample_mixture(stepper.step(x)[0], net.config.mixtures, bias, rng)
        if stop_after is not None and t + 1 >= stop_after:
            ended = (ends == steps) & (x[:, 2] > 0.5)
            ends[ended] = t + 1
            if (ends < steps).all():
                break
        if progress is not None and (t + 1) % PROGRESS_EVERY == 0:
            progress(t + 1, steps)
    return [_finished_line(samples[: ends[b], b], model) for b in range(lines)]


# sample_free reports progress this often (steps).
PROGRESS_EVERY = 250
