"""Build the glyph fallback asset (hwcli/assets/glyphs/<font>.json) from a Hershey font.

`hw write` draws the characters its model lacks (Q, Z, &, @, ...) from single-stroke
Hershey glyphs, in the writer's size and slant (hwcli/generate/glyphs.py). This script
reads the Hershey data once, at build time, and writes a small JSON asset, so the
package needs no extra runtime dependency:

    apt-get install -y hershey-fonts-data          # .jhf files under /usr/share/hershey-fonts/
    python bench/make_glyphs.py --font futural     # -> hwcli/assets/glyphs/futural.json

For every printable ASCII character (32-126) the asset holds its strokes as point lists
in units of the font's x-height (the height of its `x`), y up, the baseline at y = 0 and
x = 0 at the glyph's left bearing, plus its advance (left to right bearing). A slanted
font is made upright first (its slant, measured from the near-vertical strokes of its
lower-case letters, is taken out), so that `draw` applies the writer's slant alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERSHEY_DIR = Path("/usr/share/hershey-fonts")
PRINTABLE = [chr(c) for c in range(32, 127)]
# The acknowledgement the Hershey fonts' licence requires with the font data
# (Debian's hershey-fonts-data, /usr/share/doc/hershey-fonts-data/copyright).
NOTICE = ("The Hershey Fonts were originally created by Dr. A. V. Hershey while working at the "
          "U. S. National Bureau of Standards. The format of the Font data in this distribution "
          "was originally created by James Hurt, Cognition, Inc., 900 Technology Park Drive, "
          "Billerica, MA 01821 (mit-eddie!ci-dandelion!hurt).")


def read_jhf(path: Path) -> list[tuple[int, int, list[list[tuple[int, int]]]]]:
    """A .jhf file -> per glyph (left, right, strokes), strokes in font units, y down.

    Each record: 5 characters of id, 3 of vertex count, then that many coordinate pairs,
    each letter minus 'R'; the first pair is the left and right bearing and " R" lifts the
    pen. A record may wrap over several lines.
    """
    lines = path.read_text(encoding="latin-1").splitlines()
    glyphs, i = [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        count = int(line[5:8])
        data = line[8:]
        while len(data) < 2 * count and i < len(lines):
            data += lines[i]
            i += 1
        pairs = [(ord(data[2 * k]) - ord("R"), ord(data[2 * k + 1]) - ord("R")) for k in range(count)]
        left, right = pairs[0]
        strokes, current = [], []
        for x, y in pairs[1:]:
            if (x, y) == (ord(" ") - ord("R"), 0):  # " R": pen up
                if current:
                    strokes.append(current)
                current = []
            else:
                current.append((x, y))
        if current:
            strokes.append(current)
        glyphs.append((left, right, strokes))
    return glyphs


def slant_of(strokes: list[np.ndarray]) -> float:
    """dx/dy of the near-vertical parts of strokes (y up), weighted by length: the shear x += s * y."""
    parts = [np.diff(s, axis=0) for s in strokes if len(s) > 1]
    if not parts:
        return 0.0
    d = np.concatenate(parts)
    d = d * np.where(d[:, 1:2] < 0, -1.0, 1.0)  # every piece pointing up
    steep = d[:, 1] > 2.0 * np.abs(d[:, 0])
    if not steep.any():
        return 0.0
    return float(np.sum(d[steep, 0]) / np.sum(d[steep, 1]))


# Endpoints this close (x-heights) are one point; two straight strokes whose ends are all this
# close are one line drawn twice (the Hershey brackets' double verticals): one is dropped.
JOIN = 0.01
TWIN = 0.1


def _start_score(point) -> float:
    """Where a hand starts a stroke: high and to the left."""
    return float(point[1] - 0.5 * point[0])


def writing_order(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Strokes as a hand writes them: a straight line drawn twice once; strokes that meet end
    to end joined into one (Hershey draws Z as diagonal, top, bottom: a hand draws top,
    diagonal, bottom in one stroke), each path begun at its end that is highest and furthest
    left; closed curves keep the font's start and direction; paths left to right.

    The judge (and any reader of pen trajectories) reads the font's own order badly."""
    strokes = [np.asarray(s, np.float64) for s in strokes if len(s)]

    def ends(s):
        return s[0], s[-1]

    def near(a, b, tol):
        return float(np.hypot(*(a - b))) <= tol

    def links(k):
        return sum(near(e, f, JOIN) for j, t in enumerate(strokes) if j != k for e in ends(strokes[k]) for f in ends(t))

    for k in range(len(strokes) - 1, -1, -1):  # drop a straight line drawn twice, keeping the joined one
        s = strokes[k]
        if len(s) != 2:
            continue
        for j, t in enumerate(strokes):
            if j == k or len(t) != 2:
                continue
            same = (near(s[0], t[0], TWIN) and near(s[1], t[1], TWIN)) or (near(s[0], t[1], TWIN) and near(s[1], t[0], TWIN))
            if same and links(k) <= links(j):
                del strokes[k]
                break
    paths, unused = [], list(range(len(strokes)))
    while unused:
        def degree(point):
            return sum(near(point, e, JOIN) for j in unused for e in ends(strokes[j]))

        # start at an end that only one stroke reaches (a path's end), highest and furthest left
        candidates = [(k, flip) for k in unused for flip in (False, True)
                      if degree(ends(strokes[k])[flip]) == 1 and not near(*ends(strokes[k]), JOIN)]
        if candidates:
            k, flip = max(candidates, key=lambda c: _start_score(ends(strokes[c[0]])[c[1]]))
        else:  # closed curves and loops: the font's own start
            k, flip = unused[0], False
        path = strokes[k][::-1] if flip else strokes[k]
        unused.remove(k)
        while True:
            nxt = [(j, near(path[-1], strokes[j][-1], JOIN)) for j in unused
                   if near(path[-1], strokes[j][0], JOIN) or near(path[-1], strokes[j][-1], JOIN)]
            if not nxt:
                break
            j, reverse = nxt[0]
            piece = strokes[j][::-1] if reverse else strokes[j]
            path = np.concatenate([path, piece[1:]])
            unused.remove(j)
        paths.append(path)
    return sorted(paths, key=lambda p: (round(float(p[:, 0].min()), 1), -_start_score(p[0])))


def build(font: str, hershey_dir: Path = HERSHEY_DIR, order: bool = True) -> dict:
    raw = read_jhf(hershey_dir / f"{font}.jhf")
    if len(raw) < len(PRINTABLE):
        raise SystemExit(f"{font}.jhf has {len(raw)} glyphs, not the {len(PRINTABLE)} of printable ASCII")
    by_char = dict(zip(PRINTABLE, raw))
    # Metrics from the font itself: baseline = bottom of 'x', x-height = its height, cap height = 'H'.
    xs = np.concatenate([np.array(s) for s in by_char["x"][2]])
    hs = np.concatenate([np.array(s) for s in by_char["H"][2]])
    baseline, x_height = float(xs[:, 1].max()), float(xs[:, 1].max() - xs[:, 1].min())
    cap_height = float(hs[:, 1].max() - hs[:, 1].min())

    def to_units(char):
        left, right, strokes = by_char[char]
        return [np.array([[(x - left) / x_height, (baseline - y) / x_height] for x, y in s]) for s in strokes]

    lower = [s for c in "abcdefghijklmnopqrstuvwxyz" for s in to_units(c)]
    font_slant = slant_of(lower)
    glyphs = {}
    for char in PRINTABLE:
        left, right, _ = by_char[char]
        strokes = [s.copy() for s in to_units(char)]
        for s in strokes:
            s[:, 0] -= font_slant * s[:, 1]  # upright
        if order:
            strokes = writing_order(strokes)
        glyphs[char] = {
            "advance": round((right - left) / x_height, 4),
            "strokes": [[[round(float(x), 4), round(float(y), 4)] for x, y in s] for s in strokes],
        }
    return {
        "font": font,
        "source": f"Hershey font '{font}' ({font}.jhf, Debian package hershey-fonts-data), "
                  "converted by bench/make_glyphs.py",
        "notice": NOTICE,
        "units": "x-height = 1 (the font's 'x'); y up; baseline at y = 0; x = 0 at the left bearing",
        "cap_height": round(cap_height / x_height, 4),
        "removed_slant": round(font_slant, 4),
        "glyphs": glyphs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Hershey font -> hwcli/assets/glyphs/<font>.json")
    parser.add_argument("--font", default="futural", help="a .jhf name: futural, scripts, cursive, ...")
    parser.add_argument("--hershey-dir", type=Path, default=HERSHEY_DIR)
    parser.add_argument("--out", type=Path, help="default: hwcli/assets/glyphs/<font>.json")
    parser.add_argument("--font-order", action="store_true", help="keep the font's stroke order (no writing_order)")
    args = parser.parse_args()
    asset = build(args.font, args.hershey_dir, order=not args.font_order)
    out = args.out or ROOT / "hwcli" / "assets" / "glyphs" / f"{args.font}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asset, separators=(",", ":"), ensure_ascii=True)
    out.write_text(text + "\n")
    print(f"wrote {out}: {len(asset['glyphs'])} glyphs, cap height {asset['cap_height']} x-heights, "
          f"slant removed {asset['removed_slant']}, {len(text):,} bytes")


if __name__ == "__main__":
    main()
