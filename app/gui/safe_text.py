"""Text from documents, shown safely: never interpreted as HTML, never loading a resource.

Qt labels and tooltips guess whether a string is rich text (``Qt.AutoText``): a file named
``<img src="/dev/zero">.txt`` would then make Qt read ``/dev/zero`` to show a picture, forever. So
every label that shows a file name, a title or a passage is plain text (:func:`plain`), rich text
is built only from escaped pieces, tooltips are escaped (:func:`tooltip`), and answers written in
Markdown are turned into HTML with raw HTML off and every image removed, by a document that loads
nothing (:func:`markdown_html`).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QFont, QTextCursor, QTextDocument
from PySide6.QtWidgets import QLabel

_MARKDOWN = QTextDocument.MarkdownFeature(
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value | QTextDocument.MarkdownFeature.MarkdownNoHTML.value
)


def plain(label: QLabel) -> QLabel:
    """Show ``label``'s text literally, whatever it contains."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally (tooltips guess rich text as labels do)."""
    return "<p style='white-space:pre-wrap'>" + html.escape(text).replace("\n", "<br>") + "</p>"


class NoResourceDocument(QTextDocument):
    """A text document that loads nothing: no file, no picture, no style sheet."""

    def loadResource(self, kind: int, name: QUrl | str) -> Any:
        return None


def markdown_html(text: str, font: QFont | None = None) -> str:
    """``text`` (Markdown) as HTML for a rich-text label: raw HTML shown as text, images left out."""
    document = NoResourceDocument()
    if font is not None:
        document.setDefaultFont(font)
    document.setMarkdown(text, _MARKDOWN)
    images = []
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.isValid() and fragment.charFormat().isImageFormat():
                images.append((fragment.position(), fragment.length()))
            fragments += 1
        block = block.next()
    cursor = QTextCursor(document)
    for position, length in reversed(images):
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
    return document.toHtml()
