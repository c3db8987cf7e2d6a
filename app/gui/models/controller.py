"""Connects the Models window to :class:`app.core.models.service.ModelService`.

Listing and adding (hashing a large file) run in the io lane; comparing models asks questions,
so it runs in the inference lane, one model at a time, like answers; quantizing runs in its own
one-thread pool (llama.cpp's quantizer works in a child process, so it does not slow answers
beyond sharing the CPU) and can be cancelled.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtWidgets import QWidget

from app.core.engine import Engine
from app.gui.models.models_dialog import ModelsDialog, model_label
from app.gui.tasks import Lanes, user_message


class _Progress(QObject):
    sig_progress = Signal(str, int, int)
    """Emitted (from a worker thread) with a status line and done/total."""


class ModelsController(QObject):
    """Owns the Models window while it is open."""

    sig_models_changed = Signal()
    """Emitted after the list, the default or a model's adapters changed (the chat's chooser refreshes)."""

    sig_message = Signal(str)
    """Emitted with a short note for the status bar."""

    def __init__(self, engine: Engine, lanes: Lanes, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine, self.lanes = engine, lanes
        self.dialog: ModelsDialog | None = None
        self.quantizer = QThreadPool(self)
        self.quantizer.setMaxThreadCount(1)
        self._cancel = threading.Event()
        self._progress = _Progress(self)
        self._progress.sig_progress.connect(self._on_worker_progress)

    def dialog_for(self, parent: QWidget | None) -> ModelsDialog:
        """Make the window (not shown) and start filling it."""
        d = ModelsDialog(parent)
        d.sig_add.connect(self._on_dialog_add)
        d.sig_remove.connect(lambda key: self._change(lambda s: s.remove(key)))
        d.sig_default.connect(lambda key: self._change(
            lambda s: (s.set_default(key), f"New conversations are answered with '{key}'.")[1]))
        d.sig_add_adapter.connect(lambda key, path, scale: self._change(
            lambda s: (s.add_adapter(key, Path(path), scale=scale),
                       f"'{key}' carries {Path(path).name} at scale {scale:g} from its next answer.")[1]))
        d.sig_remove_adapter.connect(lambda key, name: self._change(
            lambda s: (s.remove_adapter(key, name), f"Took {name} off '{key}'.")[1]))
        d.sig_quantize.connect(self._on_dialog_quantize)
        d.sig_compare.connect(self._on_dialog_compare)
        d.sig_cancel.connect(self._cancel.set)
        self.dialog = d
        self.refresh("Reading the models…")
        return d

    def open(self, parent: QWidget | None) -> None:
        self.dialog_for(parent).exec()
        self.dialog = None

    # -- work ----------------------------------------------------------------------------------

    def refresh(self, status: str | None = None, *, after: str | None = None) -> None:
        if self.dialog is not None and status:
            self.dialog.set_busy(status)
        report = self._progress.sig_progress.emit

        def listed(views: Any) -> None:
            if self.dialog is not None:
                self.dialog.set_models(views)
                self.dialog.set_idle(after or "")

        self.lanes.run(self.lanes.io, lambda: self.engine.model_service().models(
            progress=lambda name, d, t: report(f"Checksum of {name}…", d // (1 << 20), t // (1 << 20))),
            listed, self._on_failed)

    def _change(self, fn: Any) -> None:
        """Run a change of the library in the io lane, then show the list again."""
        def done(message: object) -> None:
            self.sig_models_changed.emit()
            self.refresh(after=str(message or ""))
            self.sig_message.emit(str(message or ""))

        if self.dialog is not None:
            self.dialog.set_busy("Working…")
        self.lanes.run(self.lanes.io, lambda: fn(self.engine.model_service()), done, self._on_failed)

    def _on_dialog_add(self, path: str, copy: bool) -> None:
        report = self._progress.sig_progress.emit
        verb = "Copying" if copy else "Checking"

        def add() -> str:
            view = self.engine.model_service().add(
                Path(path), copy=copy, progress=lambda d, t: report(f"{verb} {Path(path).name}…", d >> 20, t >> 20))
            return f"Added {view.title} as '{view.key}'."

        self._change(lambda s: add())

    def _on_dialog_quantize(self, key: str, qtype: str, allow: bool) -> None:
        self._cancel.clear()
        report = self._progress.sig_progress.emit
        source = self.engine.model_service().get(key).path

        def work() -> str:
            result, view = self.engine.model_service().quantize(
                source, qtype, allow_requantize=allow, cancelled=self._cancel.is_set, add=True,
                progress=lambda d, t, name: report(f"Quantizing to {qtype}: {name}", d, t))
            assert view is not None
            return (f"Quantized to {qtype}: {result.output.name}, {result.output_bytes / 1e6:,.0f} MB "
                    f"({result.output_bytes / result.input_bytes:.0%} of the original), added as '{view.key}'.")

        if self.dialog is not None:
            self.dialog.set_busy(f"Quantizing to {qtype}…")
        self.lanes.run(self.quantizer, work, lambda m: (self.sig_models_changed.emit(), self.refresh(after=str(m))),
                       self._on_failed)

    def _on_dialog_compare(self, questions: str, keys: list[str]) -> None:
        from app.bench import answers

        self._cancel.clear()
        report = self._progress.sig_progress.emit

        def work() -> dict[str, Any]:
            qs = answers.load_questions(Path(questions))
            return answers.compare_in_app(
                self.engine, qs, keys, cancelled=self._cancel.is_set,
                progress=lambda d, t, key: report(f"Asking {key}… ({d} of {t} answers)", d, t))

        def shown(results: dict[str, Any]) -> None:
            if self.dialog is None:
                return
            if results:
                titles = {v.key: model_label(v, self.dialog.views) for v in self.dialog.views}
                self.dialog.show_comparison([titles.get(k, k) for k in results], answers.rows(results))
            self.refresh(after="Compared on your documents." if results else "Stopped before any model finished.")

        if self.dialog is not None:
            self.dialog.set_busy("Comparing the models on your questions…")
        self.lanes.run(self.lanes.inference, work, shown, self._on_failed)

    # -- feedback ------------------------------------------------------------------------------

    def _on_worker_progress(self, text: str, done: int, total: int) -> None:
        if self.dialog is not None:
            self.dialog.set_busy(text, done, total)

    def _on_failed(self, error: BaseException) -> None:
        message = user_message(error)
        if self.dialog is not None:
            self.dialog.set_idle(message, error=True)
        self.sig_message.emit(message)
