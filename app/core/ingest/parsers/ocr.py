"""Text from pictures of text, through the Tesseract OCR engine.

Tesseract is run as a program (``tesseract stdin stdout``), not through pytesseract: pytesseract
writes every image to a temporary file and reads the text back from another, which would put
pictures of private documents and their text on disk; a pipe keeps both in memory. It also spares
a dependency, and a missing ``tesseract`` is found with one ``shutil.which``.

Used for PDF pages without a text layer (see pdf.py) and for image files (PNG, JPEG, TIFF ...).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from typing import Any

from app.core.errors import EmptyDocument, ParseError
from app.core.ingest.parsers._clean import make_section
from app.core.ingest.parsers.base import ParsedDocument, Section, Source
from app.core.privacy.hardening import child_environment

#: Image suffixes read by OCR (lower case, with the dot).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"})
#: Resolution PDF pages are rendered at for OCR (Tesseract is trained on ~300 dpi scans).
OCR_DPI = 300
#: Pages (or image frames) OCR'd per file at most, and the seconds OCR may take per file; the rest
#: is reported in a warning. Both keep a long scan inside the per-file parse time limit.
MAX_OCR_PAGES = 100
OCR_BUDGET_S = 75.0
_LANGUAGE = "eng"
_PAGE_TIMEOUT_S = 60
# Longest side of an image handed to Tesseract: larger gains nothing and costs memory and time.
_MAX_SIDE_PX = 5000


class OcrUnavailable(ParseError):
    """A page needs OCR but the Tesseract program is not installed."""

    def __init__(self, what: str = "this file has pages without a text layer (a scan)") -> None:
        super().__init__(
            f"OCR needed: {what}, and reading it needs the Tesseract OCR program, which is not "
            "installed (on Debian/Ubuntu: apt install tesseract-ocr tesseract-ocr-eng)"
        )
        self.what = what

    def __reduce__(self) -> tuple[type, tuple[str]]:
        # Sent back from the parser process: rebuilt from ``what``, not from the whole message
        # (which would say "OCR needed: OCR needed: …").
        return (type(self), (self.what,))


def tesseract_path() -> str | None:
    """Where the ``tesseract`` program is, or None."""
    return shutil.which("tesseract")


class OcrBudget:
    """Counts pages and seconds spent on OCR in one file, so a long scan stays bounded."""

    def __init__(self, *, max_pages: int | None = None, seconds: float | None = None) -> None:
        self.max_pages = MAX_OCR_PAGES if max_pages is None else max_pages
        self.seconds = OCR_BUDGET_S if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds
        self.pages = 0
        self.left_out: list[int] = []
        self.stopped_by: str | None = None

    def allows(self, page: int) -> bool:
        """Whether ``page`` may be OCR'd; records it as left out when not."""
        if self.pages >= self.max_pages:
            self.stopped_by = f"at most {self.max_pages} pages are read by OCR per file"
        elif time.monotonic() > self.deadline:
            self.stopped_by = f"OCR stopped after {self.seconds:g} s"
        else:
            self.pages += 1
            return True
        self.left_out.append(page)
        return False

    def warning(self) -> str | None:
        if not self.left_out:
            return None
        pages = self.left_out
        shown = f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}-{pages[-1]} ({len(pages)} pages)"
        return f"{shown} not read: {self.stopped_by} (split the file to read the rest)"


def ocr_image(image: Any) -> str:
    """The text Tesseract reads in a PIL image.

    Raises:
        OcrUnavailable: Tesseract is not installed.
        ParseError: Tesseract failed on the image.
    """
    program = tesseract_path()
    if program is None:
        raise OcrUnavailable()
    image = _prepare(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    # One thread: Tesseract's OpenMP threads fight each other (and the embedder) on small
    # machines and make OCR several times slower. A bare environment: Tesseract needs none of
    # ours (proxies, D-Bus, SANCTUM_PASSPHRASE), and a private home it never writes to.
    try:
        with tempfile.TemporaryDirectory(prefix="sanctum-ocr-") as home:
            done = subprocess.run(
                [program, "stdin", "stdout", "-l", _LANGUAGE, "--psm", "3"],
                input=buffer.getvalue(),
                capture_output=True,
                timeout=_PAGE_TIMEOUT_S,
                env=child_environment(home, {"OMP_THREAD_LIMIT": "1"}),
                check=False,
            )
    except subprocess.TimeoutExpired as error:
        raise ParseError(f"OCR timed out after {_PAGE_TIMEOUT_S} s on one page") from error
    except OSError as error:
        raise OcrUnavailable() from error
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        if any("Failed loading language" in line for line in detail):
            raise ParseError(
                f"OCR needs Tesseract's '{_LANGUAGE}' language data, which is not installed "
                "(on Debian/Ubuntu: apt install tesseract-ocr-eng)"
            )
        raise ParseError(f"OCR failed: {detail[-1] if detail else f'exit code {done.returncode}'}")
    return done.stdout.decode("utf-8", errors="replace")


def _prepare(image: Any) -> Any:
    """Grey levels, upright, and no larger than Tesseract needs."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "P"):
        # Transparent pixels are black in many PNGs; put the picture on white first.
        rgba = image.convert("RGBA")
        background = _white(rgba.size)
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    if image.mode != "L":
        image = image.convert("L")
    longest = max(image.size)
    if longest > _MAX_SIDE_PX:
        scale = _MAX_SIDE_PX / longest
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    return image


def _white(size: tuple[int, int]) -> Any:
    from PIL import Image

    return Image.new("RGBA", size, (255, 255, 255, 255))


def parse_image(path: Source) -> ParsedDocument:
    """Read the text in a picture; every frame of a multi-page TIFF (or GIF) is a page.

    Raises:
        OcrUnavailable: Tesseract is not installed.
        EmptyDocument: No text was found in the picture.
        ParseError: The file is not a readable image.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if tesseract_path() is None:
        raise OcrUnavailable("this is an image")
    try:
        with path.open("rb") as handle, Image.open(handle) as image:
            frames = getattr(image, "n_frames", 1)
            budget = OcrBudget()
            sections: list[Section] = []
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                if not budget.allows(number):
                    continue
                paged = frames > 1
                section = make_section(
                    ocr_image(frame.copy()), page=number if paged else None, label=f"Page {number}" if paged else None
                )
                if section is not None:
                    sections.append(section)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, Image.DecompressionBombError):
            raise ParseError(f"image too large to read: {error}") from error
        raise ParseError(f"unreadable image: {error}") from error
    if not sections:
        raise EmptyDocument("no text: OCR found no text in this image")
    warnings = [w for w in (budget.warning(),) if w]
    return ParsedDocument(
        format="image", sections=sections, page_count=frames if frames > 1 else None, warnings=warnings
    )
