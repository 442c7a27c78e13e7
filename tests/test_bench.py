"""The bench/ scripts run: each in its `--quick` form, in a fresh process, and prints its JSON.

The figures are not checked (docs/performance.md holds them); that each script still runs
against today's library is. The ones that read with the legibility judge
(../shared/tools/legibility) skip without it, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO, SHARED_DATA

JUDGE = SHARED_DATA.parent / "tools" / "legibility" / "judge.py"
TIMEOUT_S = 600
needs_judge = pytest.mark.skipif(not JUDGE.is_file(), reason=f"the legibility judge is not at {JUDGE} (../shared beside the repository)")


def bench(script: str, *args, home: Path) -> list[dict]:
    """Run bench/SCRIPT with `args`; the JSON objects it printed (one per line, or one at the end)."""
    env = {**os.environ, "HW_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench")])}
    command = [sys.executable, str(REPO / "bench" / script), *map(str, args)]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert run.returncode == 0, f"{script} failed:\n{run.stderr[-3000:]}"
    objects = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert objects, f"{script} printed no JSON object:\n{run.stdout[-2000:]}"
    return objects


def test_train_speed(hw_home):
    (result,) = bench("train_speed.py", "--quick", home=hw_home)
    assert result


def test_peak_flops(hw_home):
    (result,) = bench("peak_flops.py", "--quick", home=hw_home)
    assert result["quick"] is True and result["ceiling_time_steps_per_second_bf16"]["synthesis"] > 0


@pytest.mark.parametrize("kind", ["synthesis", "prediction"])
def test_peak_flops_counts_every_weight_of_the_real_network(kind):
    """A time step's forward products use each weight matrix element once (two FLOP): the counted
    shapes must hold exactly the weights of the networks training runs, at paper size."""
    sys.path.insert(0, str(REPO / "bench"))
    import peak_flops
    import train_speed

    from hwcli.models.prediction import PredictionNetwork
    from hwcli.models.synthesis import SynthesisNetwork

    if kind == "synthesis":
        network, shapes = SynthesisNetwork(train_speed.synthesis_config(train_speed.PAPER)), peak_flops.synthesis_shapes()
    else:
        network, shapes = PredictionNetwork(train_speed.prediction_config(train_speed.PAPER)), peak_flops.prediction_shapes()
    weights = sum(p.numel() for p in network.parameters() if p.dim() == 2)
    assert sum(n_in * n_out for n_in, n_out in shapes) == weights
    assert peak_flops.product_flops(shapes) == 3 * 2 * weights


def test_sample_speed(hw_home):
    (result,) = bench("sample_speed.py", "--quick", home=hw_home)
    assert result["quick"] is True


def test_bf16_curve(tiny_dataset, hw_home):
    (result,) = bench("bf16_curve.py", "--quick", "--data", tiny_dataset, home=hw_home)
    assert len(result["float32_nats_per_line"]) == len(result["bf16_nats_per_line"]) == 1


def test_preprocess_speed(synthetic_iamondb, hw_home):
    (result,) = bench("preprocess_speed.py", "--quick", synthetic_iamondb, "--workers", 1, home=hw_home)
    assert result["lines"] == 40 and result["meets_targets"] is None


def test_recording_errors(synthetic_iamondb, hw_home):
    (result,) = bench("recording_errors.py", synthetic_iamondb, "--quick", home=hw_home)
    assert result["lines"] == 40 and result["repairs_at_threshold"] == 0


@needs_judge
def test_legibility(hw_home, tmp_path):
    (result,) = bench("legibility.py", "--quick", "--out", tmp_path, home=hw_home)
    assert result["sentences"] == 2


@needs_judge
def test_choose_bias(hw_home):
    results = bench("choose_bias.py", "--quick", home=hw_home)
    assert len(results) == 1


@needs_judge
def test_choose_candidates(tiny_dataset, hw_home):
    results = bench("choose_candidates.py", "--quick", "--dataset", tiny_dataset, home=hw_home)
    assert [r["candidates"] for r in results] == [1, 3] and all(r["lines"] > 0 for r in results)


@needs_judge
def test_choose_styles(tiny_dataset, hw_home):
    results = bench("choose_styles.py", "--quick", "--model", "synthesis", "--dataset", tiny_dataset, home=hw_home)
    assert results[0]["style"] is None and any("finalist" in r for r in results)


@needs_judge
def test_priming_reads_each_sentence_from_its_wrapped_lines_and_flags_overwide_lines():
    """bench/priming.py: a page's wrapped lines map back to their sentences in order, and a zigzag
    about 80 bodies wide (past the judge's 50) is one the judge takes for flat, 20 wide is not."""
    import numpy as np

    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(JUDGE.parent))
    import priming

    lines = ["The kettle sang while", "we waited.", "Please bring two", "lemons.", "Hello."]
    sentences = ["The kettle sang while we waited.", "Please bring  two lemons.", "Hello."]
    assert priming.sentence_lines(lines, sentences) == [[0, 1], [2, 3], [4]]

    def zigzag(width: float):  # y up, 0 to 10 and back every 5 units of x
        x = np.arange(0.0, width, 5.0)
        return [np.c_[x, 10.0 * (np.arange(len(x)) % 2)]]

    assert priming.judge_takes_for_flat(zigzag(800.0))
    assert not priming.judge_takes_for_flat(zigzag(200.0))


@needs_judge
def test_judge_real_chars_counts_each_character_where_the_reading_has_it(tiny_dataset, hw_home):
    sys.path.insert(0, str(REPO / "bench"))
    import judge_real_chars

    counts = judge_real_chars.counts_per_char(["Q1 X", "a Z+"], ["O1 X", "a 2"], "QXZ+1")
    assert counts == {"Q": [0, 1], "1": [1, 1], "X": [1, 1], "Z": [0, 1], "+": [0, 1]}
    (result,) = bench("judge_real_chars.py", "--dataset", tiny_dataset, "--chars", "ae", home=hw_home)
    seen = result["validation lines (unseen by the judge)"]
    assert seen["lines"] == 8 and set(seen["per_char"]) <= {"a", "e"}
    (starts,) = bench("judge_real_chars.py", "--dataset", tiny_dataset, "--line-starts", home=hw_home)
    assert starts["validation_lines"] == 8 and len(starts["first_second_char_misread"]) == 2
    assert all(0 <= share <= 1 for share in starts["first_second_char_misread"])


def test_first_chars_misread_counts_each_sentence_s_first_letters_where_the_reading_has_them():
    """bench/legibility.first_chars_misread: spaces are not characters, a dropped or changed
    letter is misread, a letter read with an extra one before it is not."""
    sys.path.insert(0, str(REPO / "bench"))
    from legibility import first_chars_misread

    pairs = [("Dear Ann", "Dear Ann"), ("Dear Ann", "dear Ann"), ("Dear Ann", "ear Ann"),
             ("I am", "I am"), ("I am", "l am"), ("The", "Tke")]
    # 1st: right, D->d, D dropped, right, I->l, right; 2nd: e, e, e, a (past the space), a, h->k
    assert first_chars_misread(pairs) == [round(3 / 6, 3), round(1 / 6, 3)]
    assert first_chars_misread([("Hi", "xHi")], count=1) == [0.0]
    assert first_chars_misread([]) == [0.0, 0.0]


def test_pool_priming_pools_every_writer_of_every_run(tmp_path):
    """bench/pool_priming.py: the pooled figures over all (writer, run) pairs, against numpy on
    the ranks themselves."""
    import numpy as np

    rng = np.random.default_rng(7)
    runs, ranks, cers = [], [], []
    for seed in (0, 100):
        rows = [{"output_rank": int(r), "real_line_rank": int(q), "output_cer": float(c)}
                for r, q, c in zip(rng.integers(1, 190, 9), rng.integers(1, 40, 9), rng.random(9) / 5)]
        if seed:  # a run that recorded its sentences; the first (older) did not
            for row in rows:
                row.update(sentences=["Dear Ann", "The end"], reads=["dear Ann", "The end"])
        summary = {"writer_set": "benchmark", "seed": seed, "style_lines": 1, "mean_cer": 0.1, "median_rank_output": 1.0,
                   "median_rank_real_line": 1.0, "worse_than_own_by_0.15": ["x"] * (seed // 100)}
        folder = tmp_path / f"run{seed}"
        folder.mkdir()
        (folder / "priming.json").write_text(json.dumps({"summary": summary, "writers": rows}))
        runs.append(folder)
        ranks += [row["output_rank"] for row in rows]
        cers += [row["output_cer"] for row in rows]
    (pooled,) = bench("pool_priming.py", *runs, home=tmp_path)
    assert pooled["pairs"] == 18 and [run["seed"] for run in pooled["runs"]] == [0, 100]
    assert pooled["median_rank_output"] == float(np.median(ranks))
    assert pooled["geometric_mean_rank_output"] == pytest.approx(np.exp(np.mean(np.log(ranks))), abs=0.01)
    assert pooled["share_ranked_within_12"] == pytest.approx(np.mean(np.array(ranks) <= 12), abs=0.001)
    assert pooled["mean_cer"] == pytest.approx(np.mean(cers), abs=1e-4)
    assert pooled["pairs_worse_than_own_by_0.15"] == 1
    # 9 writers x 2 sentences of the second run: "D" misread in 9 of 18, every second letter read
    assert pooled["sentences_with_their_start"] == 18 and pooled["first_second_char_misread"] == [0.5, 0.0]


def test_pool_priming_refuses_a_folder_without_a_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, str(REPO / "bench" / "pool_priming.py"), str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=TIMEOUT_S)
    assert run.returncode != 0 and "cannot read a bench/priming.py run" in run.stderr
    assert "Traceback" not in run.stderr


def test_priming_selection_writers_are_apart_from_the_benchmark_s():
    """bench/priming.py --selection: as many validation forms, none of them the benchmark's, evenly
    spread over the rest; forms under 3 lines or with no prime-sized line are never picked."""
    from types import SimpleNamespace

    import numpy as np

    sys.path.insert(0, str(REPO / "bench"))
    import priming

    from hwcli.data.alphabet import Alphabet
    from hwcli.data.dataset import VALIDATION

    ids, texts = [], []
    for form in range(60):
        for line in range(2 if form == 5 else 3):  # form 5 has too few lines
            ids.append(f"a{form:02d}-000-{line:02d}")
            texts.append("too short" if form == 9 else "a line of a usual length, with words")  # form 9: no prime line
    data = SimpleNamespace(ids=np.array(ids), texts=np.array(texts), indices=lambda split: np.arange(len(ids)) if split == VALIDATION else np.arange(0))
    alphabet = Alphabet("abcdefghijklmnopqrstuvwxyz ,")
    benchmark, forms = priming.pick_writers(data, alphabet, priming.WRITERS)
    selection, _ = priming.pick_writers(data, alphabet, 6, selection=True)
    assert len(benchmark) == priming.WRITERS and len(selection) == 6 and not set(benchmark) & set(selection)
    assert not {"a05-000", "a09-000"} & (set(benchmark) | set(selection))
    # Whatever count the selection asks for, it leaves out the benchmark's usual WRITERS.
    everything, _ = priming.pick_writers(data, alphabet, 100, selection=True)
    assert set(everything) == set(forms) - set(benchmark) - {"a05-000", "a09-000"}
    assert all(ids[i].startswith(form) for form, i in selection.items())


def test_priming_ink_rate_resamples_each_stroke_evenly_in_time():
    """bench/priming.py --ink-rate: R times the points, interpolated between the pen's samples."""
    import numpy as np

    sys.path.insert(0, str(REPO / "bench"))
    import priming

    stroke = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 2.0], [6.0, 2.0]])
    assert priming.at_rate([stroke], 1.0)[0] is stroke
    (doubled,) = priming.at_rate([stroke], 2.0)
    halves = np.arange(0.0, 3.0, 0.5).tolist() + [3.0]
    expected = np.column_stack([np.interp(halves, [0, 1, 2, 3], stroke[:, 0]), np.interp(halves, [0, 1, 2, 3], stroke[:, 1])])
    np.testing.assert_allclose(doubled, expected)
    (halved,) = priming.at_rate([stroke], 0.5)
    np.testing.assert_allclose(halved, stroke[[0, 2, 3]])


def test_adapt_trial_fits_a_copy_to_the_writer_s_ink_and_leaves_the_model_as_it_was(home, tiny):
    """bench/adapt_trial.py: only the named parameters learn, the copy fits the writer's line
    better than the model did, and the model itself is untouched."""
    sys.path.insert(0, str(REPO / "bench"))
    import adapt_trial

    from hwcli.generate.priming import load_prime

    model = tiny.load()
    kept = {name: p.detach().clone() for name, p in model.network.named_parameters()}
    lines = load_prime(f"line:{tiny.line_id}", model).hand_lines
    copied, before, after = adapt_trial.adapted(model, lines, steps=5, lr=1e-2, params=("output.",))
    assert after < before
    for name, p in model.network.named_parameters():
        assert torch.equal(p, kept[name]), f"{name} of the model changed"
    for name, p in copied.network.named_parameters():
        assert torch.equal(p, kept[name]) != name.startswith("output."), f"{name}: learnt or kept wrongly"
    with pytest.raises(SystemExit, match="no parameter"):
        adapt_trial.adapted(model, lines, steps=1, lr=1e-3, params=("nothing-such",))


def test_adapt_trial_rehearsal_learns_other_lines_beside_the_writer_s(tiny):
    """--rehearse: the lines rehearsed share each batch, whose loss is the mean over all its steps.
    Rehearsing the writer's own line again is the same loss, so the same copy; rehearsing other
    ink (the line twice as wide) gives another. The NLL reported is on the writer's lines alone."""
    sys.path.insert(0, str(REPO / "bench"))
    import adapt_trial

    from hwcli.generate.priming import load_prime

    model = tiny.load()
    lines = load_prime(f"line:{tiny.line_id}", model).hand_lines
    wide = [(offsets * np.array([2.0, 1.0, 1.0], np.float32), text) for offsets, text in lines]
    alone, before, _ = adapt_trial.adapted(model, lines, steps=3, lr=1e-2, params=("output.",))
    again, before_again, _ = adapt_trial.adapted(model, lines, steps=3, lr=1e-2, params=("output.",), rehearsal=lines)
    other, before_other, _ = adapt_trial.adapted(model, lines, steps=3, lr=1e-2, params=("output.",), rehearsal=wide)
    assert before == pytest.approx(before_again) and before == pytest.approx(before_other)
    weights = lambda m: torch.cat([p.flatten() for p in m.network.output.parameters()])  # noqa: E731
    assert torch.allclose(weights(alone), weights(again), atol=1e-5)
    assert not torch.allclose(weights(alone), weights(other), atol=1e-3)


def test_pair_lines_joins_two_lines_on_one_baseline():
    """bench/pair_lines.py join: A's points as they were, then B's, moved right of A by 0.9 of A's
    body (its 10-90 % y range) and up or down so that B's first 15 % of points (by x) sit at the
    height of A's last 15 %. Pen lifts are kept, A's last point lifting the pen."""
    sys.path.insert(0, str(REPO / "bench"))
    import pair_lines

    from hwcli.data.ink import strokes_to_offsets

    x = np.arange(0.0, 100.0, 2.0)
    a = strokes_to_offsets([np.column_stack([x, 20 + 10 * np.sin(x / 7) + 0.2 * x])])  # a line that climbs
    b = strokes_to_offsets([np.column_stack([x[:20], -50 + 8 * np.cos(x[:20] / 5)]),
                            np.column_stack([x[25:] + 3, -50 + 8 * np.cos(x[25:] / 5)])])
    joined = pair_lines.join(a, b)
    points, points_a, points_b = (np.cumsum(o[:, :2], 0) for o in (joined, a, b))
    assert np.allclose(points[: len(a)], points_a)
    moved = points[len(a):]
    assert np.allclose(np.diff(moved, axis=0), np.diff(points_b, axis=0), atol=1e-4)  # B's shape kept
    body = np.percentile(points_a[:, 1], 90) - np.percentile(points_a[:, 1], 10)
    assert moved[:, 0].min() == pytest.approx(points_a[:, 0].max() + 0.9 * body, rel=1e-5)
    a_end = np.median(points_a[points_a[:, 0] >= np.percentile(points_a[:, 0], 85), 1])
    b_start = np.median(moved[moved[:, 0] <= np.percentile(moved[:, 0], 15), 1])
    assert b_start == pytest.approx(a_end, abs=1e-3)
    assert joined[:, 2].tolist() == a[:, 2].tolist() + b[:, 2].tolist()


def test_pair_lines_pairs_each_form_s_lines_in_order(tiny):
    """Each form's lines two by two (an odd one alone), never across forms or the split; the
    pair's ink starts with its first line's offsets and holds both lines' points."""
    sys.path.insert(0, str(REPO / "bench"))
    import pair_lines

    from hwcli.data import dataset as datasets
    from hwcli.data.iamondb import form_of

    data = datasets.load(tiny.dataset)
    out = pair_lines.paired(data)
    forms = {}
    for i in range(len(data)):
        forms.setdefault((form_of(str(data.ids[i])), int(data.split[i])), []).append(i)
    assert len(out) == sum((len(m) + 1) // 2 for m in forms.values()) < len(data)
    by_id = {str(data.ids[i]): i for i in range(len(data))}
    pairs = 0
    for k in range(len(out)):
        names = str(out.ids[k]).split("+")
        members = [by_id[n] for n in names]
        assert len({form_of(n) for n in names}) == 1
        assert {int(data.split[i]) for i in members} == {int(out.split[k])}
        assert str(out.texts[k]) == " ".join(str(data.texts[i]) for i in members)
        assert len(out.line(k)) == sum(len(data.line(i)) for i in members)
        assert np.allclose(out.line(k)[: len(data.line(members[0]))], data.line(members[0]), atol=1e-3)
        pairs += len(members) == 2
    assert pairs > 0


def _letters(shear: float, turn: float = 0.0) -> list[np.ndarray]:
    """Ten 'L's, one x-height tall and a gap apart, each an upright bar and a foot drawn apart,
    sheared by `shear`, then turned by `turn` radians about the origin (y up)."""
    along = np.linspace(0.0, 1.0, 41)[:, None]
    strokes = []
    for k in range(10):
        strokes += [[2.0 * k, 0.0] + along * [0.0, 1.0], [2.0 * k, 0.0] + along * [1.0, 0.0]]
    shear_map = np.array([[1.0, 0.0], [shear, 1.0]])
    rotation = np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])
    return [s @ shear_map @ rotation for s in strokes]


def test_style_features_take_a_line_levelled_so_its_climb_is_no_figure_of_the_hand():
    """bench/style_features.py: the slant of sheared letters is their shear and their width is
    worked out from their points; the same line turned by 0.1 rad (a whiteboard line that
    climbs) gives the same figures, where its unlevelled body is half as tall again."""
    sys.path.insert(0, str(REPO / "bench"))
    from style_features import NAMES, features

    text, flat = "LLLLLLLLLL", _letters(0.3)
    figures = features(flat, text)
    body = np.subtract(*np.percentile(np.concatenate(flat)[:, 1], [90, 10]))
    assert figures[NAMES.index("slant")] == pytest.approx(0.3)
    assert figures[NAMES.index("width_per_char")] == pytest.approx(19.0 / 10 / body)
    assert figures[NAMES.index("lifts_per_char")] == 2.0
    climbing = _letters(0.3, turn=0.1)
    np.testing.assert_allclose(features(climbing, text), figures, rtol=0.05, atol=0.01)  # travel: whole steps of body / 10
    assert np.subtract(*np.percentile(np.concatenate(climbing)[:, 1], [90, 10])) > 1.5 * body


def test_style_yardstick_counts_only_how_a_writer_s_lines_vary_and_ranks_alike_under_any_linear_map():
    """bench/style_features.py: the within-writer covariance ignores where each writer's lines
    sit (only their spread about the writer's own mean counts), matches numpy's covariance on
    two writers, is whitened to the identity, and ranks writers the same after any invertible
    linear map of the figures (Mahalanobis), where figures z-scored one by one do not."""
    sys.path.insert(0, str(REPO / "bench"))
    from style_features import ranks, whitening, within_writer_covariance

    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(3, 3))
    writers = [rng.normal(size=(n, 3)) @ mixing + rng.normal(scale=10, size=3) for n in (4, 6, 5, 1)]
    covariance = within_writer_covariance(writers)
    moved = within_writer_covariance([w + rng.normal(scale=100, size=3) for w in writers])
    np.testing.assert_allclose(moved, covariance, atol=1e-9)
    two = writers[:2]
    pooled = (3 * np.cov(two[0].T) + 5 * np.cov(two[1].T)) / (4 + 6 - 2)  # each np.cov divides by n - 1
    np.testing.assert_allclose(within_writer_covariance(two), pooled, atol=1e-12)
    metric = whitening(covariance)
    np.testing.assert_allclose(metric @ covariance @ metric.T, np.eye(3), atol=1e-9)

    profiles = {f"w{k}": w.mean(0) for k, w in enumerate(writers)} | {f"x{k}": rng.normal(scale=10, size=3) for k in range(40)}
    queries = {f"w{k}": w[0] + rng.normal(size=3) @ mixing for k, w in enumerate(writers)}
    skew = rng.normal(size=(3, 3)) * [1, 30, 0.01]
    mapped = lambda table: {f: v @ skew.T for f, v in table.items()}  # noqa: E731
    assert ranks(mapped(queries), mapped(profiles), whitening(skew @ covariance @ skew.T)) == ranks(queries, profiles, metric)
    spread = lambda table: np.diag(1 / np.stack(list(table.values())).std(0))  # noqa: E731
    assert ranks(mapped(queries), mapped(profiles), spread(mapped(profiles))) != ranks(queries, profiles, spread(profiles))


def test_style_yardstick_holds_out_each_form_s_first_line_from_its_profile():
    """bench/style_yardstick.py: a form's first line (3 or more lines) is ranked against profiles
    of the other lines; a form of two lines is a profile only."""
    sys.path.insert(0, str(REPO / "bench"))
    from style_yardstick import identification_ranks

    forms = {"a": {0: np.array([0.0, 0.0]), 1: np.array([4.0, 0.0]), 2: np.array([4.0, 0.0])},
             "b": {3: np.array([1.0, 0.0]), 4: np.array([1.0, 0.0])},
             "c": {5: np.array([9.0, 0.0]), 6: np.array([9.0, 0.0]), 7: np.array([9.0, 0.0])}}
    # a's first line (0) is nearer b's profile (1) than its own (4): rank 2; c's own is exact: rank 1
    assert sorted(identification_ranks(forms, np.eye(2))) == [1, 2]
