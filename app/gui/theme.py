"""Looks that follow the system: colours come from the palette, sizes from the system font.

Nothing here sets a pixel font size or a fixed colour for text, so a dark desktop gives a dark
app and a larger system font gives larger text everywhere. The few tints used (the offline
badge, errors) are chosen for contrast on both light and dark backgrounds.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

OK_LIGHT, OK_DARK = "#17703a", "#7fd49b"
ERROR_LIGHT, ERROR_DARK = "#a4161a", "#ff8a8a"
WARN_LIGHT, WARN_DARK = "#8a5a00", "#f2c15f"


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def ok_color() -> str:
    return OK_DARK if is_dark() else OK_LIGHT


def error_color() -> str:
    return ERROR_DARK if is_dark() else ERROR_LIGHT


def warn_color() -> str:
    return WARN_DARK if is_dark() else WARN_LIGHT


def muted_color() -> str:
    """Secondary text: between text and background, still above 4.5:1 contrast on both palettes."""
    pal = QApplication.palette()
    return mix(pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Base), 0.38)


def set_muted(label: QWidget) -> None:
    """Draw a label's text in the muted colour (follows the palette at creation)."""
    label.setStyleSheet(f"color: {muted_color()};")


def scaled_font(widget: QWidget, factor: float, *, bold: bool = False) -> QFont:
    """The widget's font, ``factor`` times as large (so it follows the system size)."""
    font = QFont(widget.font())
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(size * factor)
    font.setBold(bold)
    return font


def mix(a: QColor, b: QColor, t: float) -> str:
    """``a`` blended toward ``b`` by ``t`` (0..1), as #rrggbb (for subtle tints on any palette)."""
    r = round(a.red() + (b.red() - a.red()) * t)
    g = round(a.green() + (b.green() - a.green()) * t)
    bl = round(a.blue() + (b.blue() - a.blue()) * t)
    return f"#{r:02x}{g:02x}{bl:02x}"


def app_stylesheet() -> str:
    """The few rules the whole app shares; every colour derives from the palette."""
    pal = QApplication.palette()
    base, window = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Window)
    text, accent = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Highlight)
    user_bubble = mix(base, accent, 0.10)
    chip_bg = mix(base, accent, 0.12)
    chip_border = mix(base, accent, 0.45)
    border = mix(window, text, 0.18)
    warn = QColor(WARN_DARK if is_dark(pal) else WARN_LIGHT)
    quote_bar = mix(base, accent, 0.55)
    return f"""
    QFrame#UserBubble {{ background: {user_bubble}; border-radius: 10px; }}
    QFrame#AnswerBubble {{ background: {base.name()}; border: 1px solid {border}; border-radius: 10px; }}
    QPushButton#CitationChip {{
        background: {chip_bg}; border: 1px solid {chip_border}; border-radius: 12px;
        padding: 3px 10px; text-align: left;
    }}
    QPushButton#CitationChip:hover {{ border-color: {accent.name()}; }}
    QPushButton#CitationChip:focus {{ border: 2px solid {accent.name()}; }}
    QFrame#AnswerBubble[unsupported="true"] {{ border: 1px solid {mix(base, warn, 0.6)}; }}
    QLabel#UnsupportedNote {{
        color: {warn.name()}; background: {mix(base, warn, 0.10)}; border: 1px solid {mix(base, warn, 0.45)};
        border-radius: 6px; padding: 6px 10px;
    }}
    QLabel#EvidenceQuote {{
        color: {mix(text, base, 0.12)}; border: 0px; border-left: 3px solid {quote_bar}; padding: 3px 6px 3px 10px;
    }}
    QLabel#EvidenceQuote:hover {{ background: {mix(base, accent, 0.08)}; }}
    QLabel#EvidenceQuote:focus {{ border: 0px; border-left: 3px solid {accent.name()};
        background: {mix(base, accent, 0.10)}; }}
    QFrame#ScreenCard {{ background: {base.name()}; border: 1px solid {border}; border-radius: 14px; }}
    QFrame#WelcomeCard {{ background: {base.name()}; border: 1px dashed {mix(window, text, 0.3)};
        border-radius: 14px; }}
    QFrame#DropOverlay {{ background: {mix(base, accent, 0.18)}; border: 3px dashed {accent.name()};
        border-radius: 16px; }}
    QScrollArea#Transcript {{ background: {window.name()}; border: none; }}
    QScrollArea#Transcript > QWidget > QWidget {{ background: {window.name()}; }}
    QWidget#TranscriptBody {{ background: {window.name()}; }}
    """
