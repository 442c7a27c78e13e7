"""The glyph fallback (hwcli/generate/glyphs.py): the committed Hershey asset covers printable
ASCII, `draw` is exactly the affine map it promises, the writer's measures come back from ink
of known size and slant, and `hw write` draws what the model lacks instead of refusing it
(with a note), while --strict still refuses. Runs from a bare clone: the asset is in the repo.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_sampling import SYNTHESIS, assert_ok, hw

from hwcli.data.alphabet import Alphabet
from hwcli.data.inkfile import read_ink
from hwcli.errors import UsageError
from hwcli.generate import glyphs
from hwcli.generate.page import split_pieces, write_page

PRINTABLE = "".join(chr(c) for c in range(32, 127))


def test_the_asset_covers_all_95_printable_characters():
    font = glyphs.load()
    assert font.chars == "".join(sorted(PRINTABLE + glyphs.DRAWN_HERE)) and len(font.chars) == 95 + 3
    assert "Hershey" in font.notice and "James Hurt" in font.notice  # the licence's acknowledgement
    for char in PRINTABLE + glyphs.DRAWN_HERE:
        assert font.advance(char) > 0
        strokes = font.strokes(char)
        assert (char == " ") == (not strokes), char
        for s in strokes:
            assert s.ndim == 2 and s.shape[1] == 2 and np.isfinite(s).all()
    x = np.concatenate(font.strokes("x"))  # units: x-height 1 on a baseline at 0
    assert np.isclose(x[:, 1].min(), 0.0) and np.isclose(x[:, 1].max(), 1.0)


@pytest.mark.parametrize("x_height, slant, x_scale", [(1.0, 0.0, 1.0), (37.5, 0.3, 1.0), (12.0, -0.2, 1.25)])
def test_draw_is_the_promised_affine_map(x_height, slant, x_scale):
    font = glyphs.load()
    origin = np.array([100.0, -20.0])
    for char in "Q&@%Z[":
        drawn = glyphs.draw(char, x_height, slant, x_scale, origin=origin)
        for s, d in zip(font.strokes(char), drawn):
            x, y = s[:, 0], s[:, 1]
            expect = np.stack([x_height * (x_scale * x + slant * y), x_height * y], 1) + origin
            np.testing.assert_allclose(d, expect, rtol=0, atol=1e-12)
        assert len(drawn) == len(font.strokes(char))


def test_pound_euro_and_degree_are_drawn_in_the_font_s_units():
    """The euro is the font's C moved right with two bars across its open left side; the pound
    stands from the baseline to the capitals' top; the degree sign floats above the x-height."""
    font = glyphs.load()
    cap = font.cap_height
    c_strokes, euro = font.strokes("C"), font.strokes("\u20ac")
    for c, e in zip(c_strokes, euro):
        np.testing.assert_allclose(e, c + [0.15, 0.0])
    bars = euro[len(c_strokes):]
    c_left = min(float(s[:, 0].min()) for s in c_strokes) + 0.15
    assert len(bars) == 2 and all(b[:, 0].min() < c_left < b[:, 0].max() and 0 < b[0, 1] < cap for b in bars)
    pound = np.concatenate(font.strokes("\u00a3"))
    assert np.isclose(pound[:, 1].min(), 0.0) and np.isclose(pound[:, 1].max(), cap)
    degree = np.concatenate(font.strokes("\u00b0"))
    assert degree[:, 1].min() > 1.0 and degree[:, 1].max() <= cap + 1e-9
    for char in glyphs.DRAWN_HERE:  # inside their own advance, as the font's glyphs are
        points = np.concatenate(font.strokes(char))
        assert 0 < points[:, 0].min() and points[:, 0].max() < font.advance(char) + 0.1


def test_the_writer_is_measured_back_from_ink_of_known_size_and_slant():
    font = glyphs.load()
    text = "minimum values"
    upright, _ = font.set_text(text)
    x_height, slant, x_scale = 40.0, 0.25, 1.2
    matrix = x_height * np.array([[x_scale, 0.0], [slant, 1.0]])
    ink = [s @ matrix for s in upright]
    writer = glyphs.measure_writer([(ink, text)], font)
    assert writer.x_height == pytest.approx(x_height, rel=0.03)
    assert writer.slant == pytest.approx(slant, abs=0.03)
    assert writer.x_scale == pytest.approx(x_scale, rel=0.1)
    assert glyphs.measure_writer([], font) is None


def test_a_line_splits_into_ink_glyphs_and_spaces():
    known = "abcdefghijklmnopqrstuvwxyzS ,."
    assert split_pieces("Smith & Sons, ok", known) == [
        ("ink", "Smith"), ("space", " "), ("glyph", "&"), ("space", " "), ("ink", "Sons, ok")]
    assert split_pieces("Quiet", known) == [("glyph", "Q"), ("ink", "uiet")]
    assert split_pieces("@#%", known) == [("glyph", "@"), ("glyph", "#"), ("glyph", "%")]


def _missing(tiny, text):
    return sorted(set(Alphabet(tiny.alphabet).missing(text)))


def test_write_page_draws_what_the_model_lacks_with_a_note(tiny):
    text = "Quiet Zoe & co @ 5%"
    missing = _missing(tiny, text)
    assert "@" in missing and "%" in missing
    page = write_page(text, model=tiny.load(), seed=3)
    assert page.glyphs == missing
    assert page.lines == [text]
    assert len(page.line_offsets[0]) and page.strokes


def test_every_printable_ascii_character_is_written(tiny):
    """0 refusals for printable ASCII: all 95 characters, in lines, one page."""
    model = tiny.load()
    text = "\n".join(PRINTABLE[i : i + 20] for i in range(0, 95, 20))
    page = write_page(text, model=model, seed=1)
    assert page.glyphs == _missing(tiny, PRINTABLE) and page.glyphs
    assert all(len(o) for o in page.line_offsets)
    assert "".join(page.lines).replace(" ", "") == PRINTABLE.replace(" ", "")


def test_a_line_of_glyphs_alone_is_written(tiny):
    page = write_page("@#%", model=tiny.load(), seed=2)
    assert page.glyphs == ["#", "%", "@"] and page.lines == ["@#%"]
    assert len(page.strokes) >= 3


def test_text_the_model_knows_takes_the_old_path(tiny):
    """No glyphs: the page is exactly the model's batch, as before the fallback existed."""
    from hwcli.config import DEFAULT_CANDIDATES
    from hwcli.generate.sampler import write_lines

    model = tiny.load()
    text = "".join(c for c in "Good morning" if c in tiny.alphabet)
    page = write_page(text, model=model, seed=4)
    assert page.glyphs == []
    expected = write_lines(model, [text], bias=1.0, seed=4, candidates=DEFAULT_CANDIDATES).lines[0]
    np.testing.assert_array_equal(page.line_offsets[0], expected)


def test_strict_refuses_glyphs_and_substitutions_plainly(tiny):
    with pytest.raises(UsageError) as error:
        write_page("caf\u00e9 @ 5%", model=tiny.load(), substitute=False)
    message = str(error.value)
    assert "'@'" in message and "'%'" in message and "'\u00e9'" in message and "strict" in message
    assert "[" not in message  # a plain list, not a Python one


def test_what_neither_model_nor_font_has_is_still_refused(tiny):
    with pytest.raises(UsageError, match="'\u00a9'"):
        write_page("5 \u00a9", model=tiny.load())


def test_prices_and_temperatures_are_written(tiny):
    page = write_page("\u00a35 \u20ac6 20\u00b0C", model=tiny.load(), seed=1)
    assert set(glyphs.DRAWN_HERE) <= set(page.glyphs) and page.lines == ["\u00a35 \u20ac6 20\u00b0C"]


# --- the CLI ---------------------------------------------------------------------------------------


def assert_error(result, code: int, fragment: str):
    """Exit `code`, handled: exactly one 'error:' line, holding `fragment`, and no traceback
    (other lines, such as which model file was used, may come before it)."""
    assert result.exit_code == code and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr


def test_cli_notes_the_glyphs_in_one_line(home, tmp_path):
    out = tmp_path / "glyphs.json"
    result = hw("write", "a@b [x] 50%", "-o", out, "--model", SYNTHESIS, "--seed", 1)
    assert_ok(result)
    notes = [line for line in result.stderr.splitlines() if "glyph font" in line]
    assert len(notes) == 1 and notes[0].startswith("note: drew ") and "@" in notes[0] and "%" in notes[0], result.stderr
    assert read_ink(out)[1] == "a@b [x] 50%"


def test_cli_strict_refuses_glyphs(home, tmp_path):
    out = tmp_path / "strict.svg"
    assert_error(hw("write", "a@b", "-o", out, "--model", SYNTHESIS, "--strict"), 2, "'@'")
    assert not out.exists()


def test_inspect_refuses_glyph_characters_clearly(home, tmp_path):
    out = tmp_path / "inspect.svg"
    assert_error(hw("inspect", "a@b", "-o", out, "--model", SYNTHESIS), 2, "glyph font")
