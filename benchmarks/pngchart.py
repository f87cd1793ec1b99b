"""A grouped bar chart on a log scale, written as PNG with the standard library only.

No plotting package is needed, so ``run.py --png`` works on a fresh machine. Labels use a
3x5 pixel font (upper case, digits and a few signs), drawn at twice its size.
"""

from __future__ import annotations

import math
import struct
import zlib

# Each glyph is five rows, top to bottom; a row is one octal digit whose bits 4, 2 and 1
# are its left, middle and right pixel.
# fmt: off
FONT = {
    "a": "25755", "b": "65656", "c": "34443", "d": "65556", "e": "74647", "f": "74644",
    "g": "34553", "h": "55755", "i": "72227", "j": "11152", "k": "55655", "l": "44447",
    "m": "57555", "n": "65555", "o": "25552", "p": "65644", "q": "25563", "r": "65655",
    "s": "34216", "t": "72222", "u": "55557", "v": "55552", "w": "55775", "x": "55255",
    "y": "55222", "z": "71247",
    "0": "75557", "1": "26227", "2": "71747", "3": "71717", "4": "55711", "5": "74717",
    "6": "74757", "7": "71111", "8": "75757", "9": "75717",
    "_": "00007", ".": "00002", ":": "02020", "-": "00700", "/": "11244", "=": "07070",
    "<": "12421", "(": "24442", ")": "21112", ";": "02022", " ": "00000",
}
# fmt: on
SCALE = 2
ADVANCE = 4 * SCALE  # a glyph and one column of space

WHITE, BLACK, GREY, RED = (255, 255, 255), (0, 0, 0), (215, 215, 215), (220, 30, 30)
# fmt: off
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34)]
# fmt: on


class Canvas:
    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(WHITE) * (width * height))

    def rect(self, x0, y0, x1, y1, color) -> None:
        """Fill [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, int(x0)), min(self.width, int(x1))
        y0, y1 = max(0, int(y0)), min(self.height, int(y1))
        if x0 >= x1:
            return
        span = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(span)] = span

    def text(self, x, y, text: str, color=BLACK, vertical=False) -> None:
        """Draw ``text`` with its top-left corner at (x, y); ``vertical`` reads bottom to top
        from (x, y) upwards (the glyphs turned a quarter turn anticlockwise)."""
        for i, char in enumerate(text.lower()):
            for row, digit in enumerate(FONT.get(char, FONT[" "])):
                for col in range(3):
                    if not int(digit) & (4 >> col):
                        continue
                    if vertical:
                        px, py = x + row * SCALE, y - (i * 4 + col + 1) * SCALE
                    else:
                        px, py = x + (i * 4 + col) * SCALE, y + row * SCALE
                    self.rect(px, py, px + SCALE, py + SCALE, color)

    def png(self) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        row_bytes = self.width * 3
        raw = b"".join(
            b"\x00" + self.pixels[y * row_bytes : (y + 1) * row_bytes] for y in range(self.height)
        )  # filter type 0 on every row
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def bar_chart(
    path: str, groups: list[str], series: dict[str, list], targets=None, title: str = ""
) -> None:
    """One group of bars per entry of ``groups``, one bar per series (None: no bar), on a
    log scale with a black line at 1 and a red mark at each group's target (if any)."""
    targets = targets or [None] * len(groups)
    values = [v for vs in series.values() for v in vs if v] + [t for t in targets if t]
    lo = 10.0 ** math.floor(math.log10(min(values + [1.0])))
    hi = 10.0 ** math.ceil(math.log10(max(values + [1.0])))
    hi = max(hi, lo * 10)

    bar, gap = 8, 12
    group_width = len(series) * bar + gap
    left, top, plot_height = 60, 50, 320
    bottom = top + plot_height
    label_room = max(len(g) for g in groups) * ADVANCE + 12
    legend_width = sum(len(name) * ADVANCE + 30 for name in series)
    width = max(left + len(groups) * group_width + 20, legend_width + 20, 400)
    canvas = Canvas(width, bottom + label_room)

    def y_of(value: float) -> float:
        fraction = (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return bottom - fraction * plot_height

    canvas.text(10, 6, title)
    x = 10
    for color, name in zip(PALETTE * 4, series):
        canvas.rect(x, 24, x + 12, 34, color)
        canvas.text(x + 16, 25, name)
        x += len(name) * ADVANCE + 30
    for exponent in range(round(math.log10(lo)), round(math.log10(hi)) + 1):
        y = round(y_of(10.0**exponent))
        canvas.rect(left, y, width - 10, y + 1, BLACK if exponent == 0 else GREY)
        label = f"{10.0**exponent:g}"
        canvas.text(left - 6 - len(label) * ADVANCE, y - 5, label)
    canvas.rect(left - 1, top, left, bottom + 1, BLACK)

    for g, (group, target) in enumerate(zip(groups, targets)):
        x0 = left + gap // 2 + g * group_width
        for s, (color, ratios) in enumerate(zip(PALETTE * 4, series.values())):
            if ratios[g]:
                canvas.rect(x0 + s * bar, y_of(ratios[g]), x0 + (s + 1) * bar - 1, bottom, color)
        if target:
            y = round(y_of(target))
            canvas.rect(x0 - 3, y - 1, x0 + len(series) * bar + 2, y + 1, RED)
        canvas.text(
            x0 + (len(series) * bar) // 2 - 5,
            bottom + 6 + len(group) * ADVANCE,
            group,
            vertical=True,
        )

    with open(path, "wb") as f:
        f.write(canvas.png())
