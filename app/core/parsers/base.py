"""What every file-format parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a document.

    Attributes:
        text: The extracted text, as a reader would see it (reading order, tables as rows).
        page: 1-based page, slide or sheet number; None where the format has no pages.
        label: How a person names the place: "Page 3", "Slide 4", "Sheet 'Q1 revenue'", or None.
    """

    text: str
    page: int | None = None
    label: str | None = None


@dataclass
class ParsedDocument:
    """The text of one file, split by where it came from.

    Attributes:
        format: Short format name ("pdf", "docx", "xlsx", "pptx", "html", "markdown", "text",
            "csv", "email").
        sections: Text in document order. Formats without pages usually give one section.
        title: The document's own title, when it has one.
        page_count: Number of pages/slides/sheets, or None where the format has no pages.
        warnings: Things a user should know that did not stop parsing ("page 7 has no text").
    """

    format: str
    sections: list[Section]
    title: str | None = None
    page_count: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def char_count(self) -> int:
        return sum(len(s.text) for s in self.sections)
