"""Every person's colour carries white text (avatar initials, cursor labels) at WCAG AA contrast."""

from __future__ import annotations

import pytest

from collab.accounts.services import CURSOR_COLORS


def relative_luminance(hex_color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


@pytest.mark.parametrize("color", CURSOR_COLORS)
def test_white_text_on_each_colour_meets_aa(color: str) -> None:
    contrast = 1.05 / (relative_luminance(color) + 0.05)
    assert contrast >= 4.5, f"{color}: {contrast:.2f}:1"


def test_the_palette_has_distinct_colours() -> None:
    assert len(set(CURSOR_COLORS)) == len(CURSOR_COLORS) >= 10
