#!/usr/bin/env python3
"""Makes NotoSansCJKsc-Medium-labels.otf, the font every PNG and ZPL label is drawn with.

Source: Noto Sans CJK SC Medium (face 2 of NotoSansCJK-Medium.ttc, version 2.004) from
Debian's package fonts-noto-cjk-extra 1:20220127+repack1-1:

    apt-get download fonts-noto-cjk-extra && dpkg -x fonts-noto-cjk-extra_*.deb x
    pip install fonttools==4.69.1
    python3 subset.py x/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc

Kept: every character of GB 2312 (6,763 hanzi, full-width forms, punctuation, kana, Greek,
Cyrillic, box drawing...), the hanzi of Big5 level 1 (the 5,401 common traditional
characters, for names written in traditional characters), ASCII, Latin-1, general
punctuation (… — “ ” ‘ ’), CJK symbols and punctuation, half- and full-width forms and a few
signs. The .notdef glyph keeps its outline (a box with a cross): a character outside the
subset prints as that box, never as nothing. No hinting, no layout features (labels are set
one glyph after the other).
"""
import sys

from fontTools import subset


def decodable(encoding, leads, trails):
    out = set()
    for hi in leads:
        for lo in trails:
            try:
                out.add(bytes([hi, lo]).decode(encoding))
            except UnicodeDecodeError:
                pass
    return out


def characters():
    chars = decodable("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF))
    big5 = decodable("big5", range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)])
    chars |= {c for c in big5 if "\u4e00" <= c <= "\u9fff"}
    for lo, hi in [
        (0x20, 0x7E),  # ASCII
        (0xA0, 0xFF),  # Latin-1
        (0x2000, 0x206F),  # general punctuation
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF01, 0xFF65),  # full- and half-width forms
        (0xFFE0, 0xFFE6),
    ]:
        chars |= {chr(c) for c in range(lo, hi + 1)}
    chars |= set("×÷№℃※→←↑↓√∞≤≥")
    return sorted(chars)


def main():
    source = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "NotoSansCJKsc-Medium-labels.otf"
    options = subset.Options()
    options.font_number = 2  # Noto Sans CJK SC in the collection
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    font = subset.load_font(source, options)
    s = subset.Subsetter(options)
    s.populate(unicodes=[ord(c) for c in characters()])
    s.subset(font)
    subset.save_font(font, out, options)
    print(f"{out}: {len(characters())} characters")


if __name__ == "__main__":
    main()
