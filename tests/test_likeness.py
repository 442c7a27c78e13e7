"""Matching the style's slant, letter width and reach (hwcli/generate/likeness.py): the figures
measured back after the change equal the style's, the ink keeps its points and pen lifts, and
`hw write` applies it to the user's ink only, with --no-match to leave it out.
"""

# The session's tiny models (`tiny`, `home`) are conftest.py fixtures, built from synthetic lines.

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from test_sampling import SYNTHESIS, assert_ok, hw  # noqa: F401 - CLI helpers

from hwcli.data.ink import offsets_to_strokes, strokes_to_offsets
from hwcli.generate import glyphs, likeness
from hwcli.generate.page import write_page

STYLES = Path(__file__).resolve().parent / "fixtures" / "styles"
TEXT = "minimum hand"


def font_line(slant: float, x_scale: float, text: str = TEXT) -> np.ndarray:
    """`text` in the glyph font, sheared and widened by the given figures, as stroke-3 offsets."""
    font = glyphs.load()
    strokes, cursor = [], 0.0
    for char in text:
        strokes += font.draw(char, 10.0, slant, x_scale, origin=(cursor, 0.0))
        cursor += font.advance(char) * 10.0 * x_scale
    return strokes_to_offsets(strokes)


def test_the_measures_read_back_a_known_slant_and_width():
    hand = likeness.measure([font_line(0.3, 1.2)], [TEXT])
    assert hand.writer.slant == pytest.approx(0.3, abs=0.02)
    assert hand.writer.x_scale == pytest.approx(1.2, rel=0.03)


@pytest.mark.parametrize("slant, x_scale", [(0.35, 1.2), (-0.15, 0.85), (0.0, 1.0)])
def test_matched_ink_measures_as_the_style(slant, x_scale):
    """The style's slant; its width weighed with the writing's (one line of ink: the geometric
    mean of the two, computed here apart from the code)."""
    assert likeness.style_weight(1) == 0.5
    style = likeness.measure([font_line(slant, x_scale)], [TEXT])
    written = font_line(0.1, 1.0)
    written_width = likeness.measure([written], [TEXT]).writer.x_scale
    matched = likeness.match([written], [TEXT], style)[0]
    again = likeness.measure([matched], [TEXT])
    assert again.writer.slant == pytest.approx(slant, abs=0.02)
    assert again.writer.x_scale == pytest.approx(np.sqrt(written_width * style.writer.x_scale), rel=0.02)
    assert matched.shape == written.shape
    assert np.array_equal(matched[:, 2], written[:, 2])  # the pen lifts stay where they were


def test_more_lines_of_ink_weigh_more():
    """n lines weigh n w / (1 + (n - 1) w): two equally good guesses of the hand, the line's
    error shrinking with n; toward 1 as the lines grow."""
    w = likeness.ONE_LINE_WEIGHT
    weights = [likeness.style_weight(n) for n in (1, 2, 3, 10)]
    assert weights == pytest.approx([w, 2 * w / (1 + w), 3 * w / (1 + 2 * w), 10 * w / (1 + 9 * w)])
    assert weights == sorted(weights) and weights[-1] < 1


def test_the_aim_weighs_width_and_reach_and_keeps_slant_and_gap():
    """Checked against the formula in numpy: log ratios scaled by the weight, then held in range."""
    written = likeness.Hand(glyphs.Writer(1.0, 0.1, 1.0), 0.4, 0.5)
    style = likeness.Hand(glyphs.Writer(2.0, 0.3, 1.44), 0.9, 0.45, 0.8, lines=3)
    aim = likeness.aim(written, style)
    w = likeness.style_weight(3)
    assert aim.writer.slant == 0.3 and aim.word_gap == 0.8
    assert aim.writer.x_scale == pytest.approx(min(1.44**w, likeness.WIDTH_RANGE[1]))
    assert aim.ascender == pytest.approx(0.4 * min((0.9 / 0.4) ** w, likeness.REACH_RANGE[1]))
    assert aim.descender == pytest.approx(0.5 * (0.45 / 0.5) ** w)


def _words(gaps: list[float], body: float = 10.0) -> list[np.ndarray]:
    """Words of two strokes each (a letter and a dot written after it, over the letter), 20 wide
    and `body` high, with the given gaps between them."""
    strokes, left = [], 0.0
    for gap in [0.0, *gaps]:
        left += gap
        strokes += [np.array([[left, 0.0], [left + 10, body], [left + 20, 0.0]]), np.array([[left + 5, body + 4], [left + 5, body + 5]])]
        left += 20
    return strokes


def test_word_gaps_are_the_widest_gaps_after_all_the_ink_so_far():
    """Three words, gaps 7 and 12: the dots (written after their letter, over it) never open a
    gap; the text's two spaces pick two gaps, and a text of one word none."""
    strokes = _words([7.0, 12.0])
    starts, gaps = likeness.word_gaps(strokes, "one two three")
    assert starts == [2, 4] and gaps == pytest.approx([7.0, 12.0])
    assert likeness.word_gaps(strokes, "one") == ([], [])
    assert likeness.word_gaps(strokes, "a b c d e") == ([2, 4], pytest.approx([7.0, 12.0]))  # no more than the ink has
    assert likeness.word_gaps(strokes, "one , two three .") == ([2, 4], pytest.approx([7.0, 12.0]))
    assert likeness.word_gaps(strokes, "one , two .") == ([4], pytest.approx([12.0]))  # the widest gap


def test_a_comma_written_apart_opens_no_word_where_the_window_says_so():
    """"one two, three": the comma stands 9 right of "two", wider than the gaps of 7 and 6
    between the words. The widest gaps take it for a word; the characters each stroke began on
    (the comma on its own, index 7; "three" after the space, 8) do not."""
    one, dot1, two, dot2, three, dot3 = _words([7.0, 6.0])  # "two" ends at x = 47
    comma = np.array([[56.0, 1.0], [57.0, -2.0]])
    moved = [s + [10.0, 0.0] for s in (three, dot3)]  # "three" begins 6 right of the comma
    strokes, text = [one, dot1, two, dot2, comma, *moved], "one two, three"
    assert likeness.word_gaps(strokes, text)[0] == [2, 4]
    starts, gaps = likeness.word_gaps(strokes, text, np.array([0, 1, 4, 5, 7, 9, 10]))
    assert starts == [2, 5] and gaps == pytest.approx([7.0, 6.0])


def test_with_the_window_s_characters_words_begin_where_the_window_began_them():
    """"one two three", "two" written in two strokes 9 apart: the widest gaps (9 and 12) split
    "two"; the characters each stroke began on (the space before "two" is 3, before "three" 7)
    find the gap of 7 before it instead."""
    one, dot1, two, dot2, three, dot3 = _words([7.0, 12.0])
    tw, o = two.copy(), two + [29.0, 0.0]  # "o" 9 right of "tw"; what follows moves along
    later = [s + [29.0, 0.0] for s in (dot2, three, dot3)]
    strokes = [one, dot1, tw, o, *later]
    assert likeness.word_gaps(strokes, "one two three")[0] == [3, 5]  # widest: "tw|o" and "two|three"
    chars = np.array([0, 1, 4, 6, 6, 8, 9])
    starts, gaps = likeness.word_gaps(strokes, "one two three", chars)
    assert starts == [2, 5] and gaps == pytest.approx([7.0, 12.0])
    lagging = np.array([0, 1, 3, 6, 6, 7, 9])  # the window still on the space: the same words
    assert likeness.word_gaps(strokes, "one two three", lagging)[0] == [2, 5]


def test_respace_scales_every_gap_by_one_factor_and_moves_whole_words():
    """Gaps 6 and 10, median 8: to a word gap of one body (the 10-90 % range of the line's y,
    computed here with numpy) every gap is scaled by body / 8."""
    strokes = _words([6.0, 10.0])
    body = np.subtract(*np.percentile(np.concatenate(strokes)[:, 1], [90, 10]))
    factor = body / 8.0
    assert likeness.GAP_RANGE[0] < factor < likeness.GAP_RANGE[1]
    moved = likeness.respace(strokes, "one two three", 1.0)
    _, gaps = likeness.word_gaps(moved, "one two three")
    assert gaps == pytest.approx([6.0 * factor, 10.0 * factor])
    for before, after in zip(strokes, moved):  # each stroke moved sideways, whole
        assert np.allclose(np.diff(after, axis=0), np.diff(before, axis=0))
        assert np.allclose(after[:, 1], before[:, 1])
    assert likeness.respace(strokes, "one two three", None) is strokes
    assert likeness.respace(strokes, "one", 3.0) is strokes


def test_respace_takes_the_body_of_the_levelled_line():
    """A long line written on a slope: its 10-90 % range of y is far taller than its letters, but
    the gaps come out as on the same line written level."""
    text = " ".join(["word"] * 10)
    flat = _words([8.0] * 9)
    sloped = [stroke + np.column_stack([np.zeros(len(stroke)), 0.15 * stroke[:, 0]]) for stroke in flat]
    spread = lambda strokes: np.subtract(*np.percentile(np.concatenate(strokes)[:, 1], [90, 10]))  # noqa: E731
    assert spread(sloped) > 2 * spread(flat)
    want = 0.8  # a factor of 1.5 on the level line: inside GAP_RANGE
    flat_gaps = likeness.word_gaps(likeness.respace(flat, text, want), text)[1]
    sloped_gaps = likeness.word_gaps(likeness.respace(sloped, text, want), text)[1]
    assert sloped_gaps == pytest.approx(flat_gaps, rel=0.02)


def test_respace_holds_the_change_within_its_range():
    strokes = _words([8.0, 8.0])
    body = np.subtract(*np.percentile(np.concatenate(strokes)[:, 1], [90, 10]))
    for want, factor in ((100.0, likeness.GAP_RANGE[1]), (0.001, likeness.GAP_RANGE[0])):
        _, gaps = likeness.word_gaps(likeness.respace(strokes, "a b c", want), "a b c")
        assert gaps == pytest.approx([8.0 * factor] * 2), (want, body)


def test_matching_gives_the_writing_the_style_s_word_spacing():
    """The style's hand measures its word gap; a hand asking for 1.6 times it gets lines whose
    gap, measured back, is 1.6 times (the letters match already)."""
    line = font_line(0.0, 1.0)
    style = likeness.measure([line], [TEXT])
    assert style.word_gap is not None and style.word_gap > 0
    wider = likeness.Hand(style.writer, style.ascender, style.descender, 1.6 * style.word_gap)
    matched = likeness.match([line], [TEXT], wider)[0]
    assert likeness.measure([matched], [TEXT]).word_gap == pytest.approx(1.6 * style.word_gap, rel=0.02)
    assert likeness.measure([font_line(0.0, 1.0, "minimum")], ["minimum"]).word_gap is None
    unspaced = likeness.measure([line], [TEXT], spacing=False)  # as `match` measures the written lines
    assert unspaced.word_gap is None and unspaced == dataclasses.replace(style, word_gap=None)


def test_a_hand_with_wide_word_gaps_is_matched_in_width_and_gaps_both():
    """Written with word gaps two spaces wide, the line measures wide; narrowed to the width
    aimed at and then respaced to the style's gaps, it came out narrower than that aim (by
    about a tenth here). Set again after respacing, it measures back as the aim in both."""
    text = "one minimum hand two"
    style = likeness.measure([font_line(0.2, 1.1, text)], [text])
    spaced = font_line(0.0, 1.0, text.replace(" ", "  "))
    written = likeness.measure([spaced], [text], spacing=False)
    aim = likeness.aim(written, style)
    once = likeness._matched_once([spaced], [text], written, aim, [None], [style.word_gap])
    assert likeness.measure(once, [text]).writer.x_scale < 0.95 * aim.writer.x_scale  # what one pass gives
    again = likeness.measure(likeness.match([spaced], [text], style), [text])
    assert again.writer.x_scale == pytest.approx(aim.writer.x_scale, rel=0.02)
    assert again.word_gap == pytest.approx(style.word_gap, rel=0.03)
    assert again.writer.slant == pytest.approx(style.writer.slant, abs=0.02)


def test_the_width_is_not_pushed_past_its_range_by_the_passes():
    """A style far narrower than the writing (0.6 against 1.5: the weighed aim is 0.63 of it):
    the width stops at WIDTH_RANGE's floor, however many passes set it again."""
    style = likeness.measure([font_line(0.0, 0.6)], [TEXT])
    written = likeness.measure([font_line(0.0, 1.5)], [TEXT])
    assert np.sqrt(style.writer.x_scale / written.writer.x_scale) < likeness.WIDTH_RANGE[0]
    matched = likeness.measure(likeness.match([font_line(0.0, 1.5)], [TEXT], style), [TEXT])
    assert matched.writer.x_scale == pytest.approx(likeness.WIDTH_RANGE[0] * written.writer.x_scale, rel=0.02)


def test_the_map_is_unslant_widen_reslant():
    """Checked against the three steps done one after another on points, in numpy."""
    written, style = glyphs.Writer(1.0, 0.2, 1.0), glyphs.Writer(1.0, -0.1, 1.1)
    points = np.random.default_rng(0).normal(size=(20, 2))
    upright = points[:, 0] - 0.2 * points[:, 1]
    expected = np.column_stack([1.1 * upright - 0.1 * points[:, 1], points[:, 1]])
    assert np.allclose(points @ likeness.matching_map(written, style), expected)


def test_the_width_change_is_held_within_its_range():
    narrow, wide = glyphs.Writer(1.0, 0.0, 0.5), glyphs.Writer(1.0, 0.0, 1.5)
    assert likeness.matching_map(narrow, wide)[0, 0] == pytest.approx(likeness.WIDTH_RANGE[1])
    assert likeness.matching_map(wide, narrow)[0, 0] == pytest.approx(likeness.WIDTH_RANGE[0])


def test_the_reach_stretch_scales_only_what_lies_past_the_body():
    rng = np.random.default_rng(1)
    strokes = [np.column_stack([np.arange(200.0), rng.uniform(-4, 14, 200)])]
    y = strokes[0][:, 1]
    low, bottom, top, high = np.percentile(y, [2, 10, 90, 98])
    out = likeness.stretch_reach(strokes, 1.4, 0.8)[0][:, 1]
    inside = (y >= bottom) & (y <= top)
    assert np.array_equal(out[inside], y[inside])
    assert np.allclose(out[y > top], top + 1.4 * (y[y > top] - top))
    assert np.allclose(out[y < bottom], bottom + 0.8 * (y[y < bottom] - bottom))
    new_low, new_high = np.percentile(out, [2, 98])  # a monotone map moves the percentiles with it
    assert (new_high - top) == pytest.approx(1.4 * (high - top))
    assert (bottom - new_low) == pytest.approx(0.8 * (bottom - low))


def test_a_sloping_line_is_matched_as_it_will_be_laid_out_level():
    """The model's lines climb or fall a little, and the page levels them; matched, a line that
    climbs by 0.05 measures back as the style: its reach, slant and width (a reach taken on the
    sloping line counts the climb as body and stretches the wrong points: ascenders came back at
    half the style's). The levelling of a line's baseline is an estimate, hence the 10 %."""
    text = "the quick brown fox jumps over the lazy dog"
    turn = np.array([[np.cos(0.05), np.sin(0.05)], [-np.sin(0.05), np.cos(0.05)]])
    climbing = strokes_to_offsets([s @ turn for s in offsets_to_strokes(font_line(0.0, 1.0, text))])
    level_hand = likeness.measure([font_line(0.0, 1.0, text)], [text])
    style = likeness.Hand(glyphs.Writer(1.0, 0.25, 1.1 * level_hand.writer.x_scale), 1.3 * level_hand.ascender,
                          0.8 * level_hand.descender)
    aim = likeness.aim(level_hand, style)  # what the level line would be matched to
    again = likeness.measure(likeness.match([climbing], [text], style), [text])
    assert again.ascender == pytest.approx(aim.ascender, rel=0.1)
    assert again.descender == pytest.approx(aim.descender, rel=0.1)
    assert again.writer.slant == pytest.approx(0.25, abs=0.02)
    assert again.writer.x_scale == pytest.approx(aim.writer.x_scale, rel=0.03)


def test_too_little_ink_or_no_style_leaves_the_lines_as_they_are():
    line = font_line(0.0, 1.0)
    assert likeness.measure([font_line(0.0, 1.0, "mi")], ["mi"]) is None  # fewer than MIN_CHARS
    assert likeness.match([line], [TEXT], None)[0] is line
    style = likeness.measure([font_line(0.3, 1.2)], [TEXT])
    short = font_line(0.0, 1.0, "mi")
    assert likeness.match([short], ["mi"], style)[0] is short


# --- in write_page and hw write ---------------------------------------------------------------------


@pytest.fixture
def slanted_ink(tmp_path) -> Path:
    """A user's ink file: TEXT in the glyph font, slanted 0.4 and widened 1.25."""
    import json

    from hwcli.data.ink import offsets_to_strokes

    strokes = offsets_to_strokes(font_line(0.4, 1.25))
    path = tmp_path / "slanted.json"
    path.write_text(json.dumps({"text": TEXT, "strokes": [s.round(3).tolist() for s in strokes]}))
    return path


def test_user_ink_is_matched_and_no_match_leaves_it(tiny, slanted_ink):
    model = tiny.load()
    matched = write_page("hello there", model=model, style=str(slanted_ink), seed=2)
    plain = write_page("hello there", model=model, style=str(slanted_ink), seed=2, match_style=False)
    assert np.array_equal(matched.line_offsets[0][:, 2], plain.line_offsets[0][:, 2])  # same draw, same pen lifts
    # the page is the sampler's draw, matched to the hand of the style's ink as the model sees it,
    # its words where the window began them
    from hwcli.config import DEFAULT_CANDIDATES
    from hwcli.generate.priming import bias_for, load_prime
    from hwcli.generate.sampler import write_lines

    prime = load_prime(str(slanted_ink), model)
    hand = likeness.measure([prime.offsets], [prime.text])
    assert hand.writer.slant == pytest.approx(0.4, abs=0.03)
    drawn = write_lines(model, ["hello there"], bias=bias_for(prime, None), seed=2, prime=prime,
                        candidates=DEFAULT_CANDIDATES, match_lifts=True)
    assert np.array_equal(drawn.lines[0], plain.line_offsets[0])
    expected = likeness.match(drawn.lines, ["hello there"], hand, drawn.stroke_chars)
    assert np.allclose(matched.line_offsets[0], expected[0])
    assert not np.allclose(matched.line_offsets[0], plain.line_offsets[0])


def test_a_builtin_style_is_written_as_the_model_writes_it(tiny):
    from hwcli.generate.priming import load_prime
    from hwcli import paths

    name = paths.builtin_style_names()[0]
    assert not load_prime(name, tiny.load()).match
    assert load_prime(str(STYLES / "hi.json"), tiny.load()).match


def test_the_cli_takes_no_match(home, tmp_path, slanted_ink):
    out, plain = tmp_path / "m.svg", tmp_path / "p.svg"
    assert_ok(hw("write", "hello there", "-o", out, "--model", SYNTHESIS, "--seed", 1, "--style", slanted_ink))
    assert_ok(hw("write", "hello there", "-o", plain, "--model", SYNTHESIS, "--seed", 1, "--style", slanted_ink,
                 "--no-match"))
    assert out.read_bytes() != plain.read_bytes()
