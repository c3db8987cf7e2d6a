"""``sanctum models``: the chat model library, adapters and quantizing.

``sanctum models`` lists; ``add``, ``remove``, ``default``, ``quantize`` and ``adapter
add|remove|list`` change it. Everything goes through :class:`app.core.models.service.ModelService`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.models.service import QUANT_TYPES

if TYPE_CHECKING:
    from app.core.engine import Engine
    from app.core.models.service import ModelView

EXIT_OK, EXIT_FAILED = 0, 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``models`` actions to its parser (with no action it lists)."""
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    a = sub.add_parser("add", help="check a .gguf chat model and add it to the library")
    a.add_argument("file", type=Path, metavar="FILE.gguf")
    how = a.add_mutually_exclusive_group()
    how.add_argument("--copy", action="store_true", help="copy it into Sanctum's data folder (the default)")
    how.add_argument("--reference", action="store_true", help="use it where it lies (keep the file there)")
    r = sub.add_parser("remove", help="forget a model (its copy is deleted; a referenced file is kept)")
    r.add_argument("key", metavar="NAME")
    d = sub.add_parser("default", help="answer new conversations with this model")
    d.add_argument("key", metavar="NAME")
    q = sub.add_parser("quantize", help="make a smaller, quicker copy of a model with llama.cpp's quantizer")
    q.add_argument("input", type=Path, metavar="IN.gguf")
    q.add_argument("--type", required=True, choices=list(QUANT_TYPES),
                   help="Q4_K_M: smallest; Q8_0: closest to the original")
    q.add_argument("-o", "--output", type=Path, metavar="OUT.gguf", help="default: IN-TYPE.gguf beside IN")
    q.add_argument("--allow-requantize", action="store_true",
                   help="quantize a file that is already quantized (loses more quality than quantizing the original)")
    q.add_argument("--add", action="store_true", help="add the result to the library")
    ad = sub.add_parser("adapter", help="LoRA adapters a model carries")
    asub = ad.add_subparsers(dest="adapter_command", metavar="ACTION", required=True)
    aa = asub.add_parser("add", help="let a model carry a LoRA adapter (GGUF)")
    aa.add_argument("key", metavar="MODEL")
    aa.add_argument("file", type=Path, metavar="ADAPTER.gguf")
    aa.add_argument("--scale", type=float, default=1.0, help="0 = off, 1 = as trained (default 1)")
    ar = asub.add_parser("remove", help="take an adapter off a model")
    ar.add_argument("key", metavar="MODEL")
    ar.add_argument("adapter", metavar="ADAPTER", help="its file name or path")
    al = asub.add_parser("list", help="the adapters a model carries")
    al.add_argument("key", metavar="MODEL")
    al.add_argument("--json", action="store_true")


def run(engine: Engine, args: argparse.Namespace) -> int:
    action = getattr(args, "models_command", None)
    service = engine.model_service()
    if action is None:
        return _list(engine, args)
    if action == "add":
        view = service.add(args.file, copy=not args.reference, progress=_Bar("checking"))
        _Bar.done()
        how = "copied into the library" if view.copied else "referenced where it lies"
        print(f"Added '{view.key}' ({how}): {_line(view)}")
        if view.info and not view.info.has_chat_template:
            from app.core.models.service import NO_TEMPLATE_NOTE

            print(f"Note: {NO_TEMPLATE_NOTE}.")
        return EXIT_OK
    if action == "remove":
        print(service.remove(args.key))
        return EXIT_OK
    if action == "default":
        view = service.set_default(args.key)
        print(f"New conversations are answered with '{view.key}' ({view.title}).")
        return EXIT_OK
    if action == "quantize":
        return _quantize(engine, args)
    if action == "adapter":
        return _adapter(engine, args)
    raise AssertionError(action)


def _line(v: ModelView) -> str:
    i = v.info
    if i is None:
        return f"{v.path.name}: {v.problem}"
    bits = [i.family, f"{i.parameters_label()} parameters", i.quantization or "unknown quantization",
            f"{i.size_bytes / 1e6:,.0f} MB", f"context {i.context_length:,}" if i.context_length else "context ?",
            "chat template" if i.has_chat_template else "NO chat template", f"licence {i.licence or 'not stated'}"]
    return " · ".join(bits)


def _list(engine: Engine, args: argparse.Namespace) -> int:
    views = engine.model_service().models(progress=_HashProgress())
    _Bar.done()
    emb = engine.embedding_model_path()
    if args.json:
        print(json.dumps({"chat_models": [v.as_dict() for v in views], "embedding": {"path": str(emb)},
                          # kept from before the library: the model answering now
                          "chat": _current(views)}, indent=2))
        return EXIT_OK
    if not views:
        print("No chat models installed: run the setup again, or `sanctum models add FILE.gguf`.")
    for v in views:
        mark = "*" if v.default else " "
        origin = ("bundled" if v.bundled else "chosen in settings, not added" if not v.listed else
                  "copy" if v.copied else "reference")
        print(f"{mark} {v.key:<28} {v.title}  [{origin}]")
        print(f"    {_line(v)}")
        print(f"    {v.path}")
        if v.sha256:
            print(f"    sha256 {v.sha256}")
        for a in v.adapters:
            print(f"    + adapter {a.name} at scale {a.scale:g}")
        if v.speed:
            print(f"    {v.speed.describe()}")
    print("\n* answers new conversations (`sanctum models default NAME` changes it)")
    print(f"embedding model: {emb}")
    return EXIT_OK


def _current(views: list[ModelView]) -> dict[str, Any] | None:
    v = next((v for v in views if v.default), None)
    if v is None or v.info is None:
        return None
    i = v.info
    return {"path": str(v.path), "name": i.name, "architecture": i.architecture, "quantization": i.quantization,
            "context_length": i.context_length, "size_bytes": i.size_bytes, "chat_template": i.has_chat_template}


def _quantize(engine: Engine, args: argparse.Namespace) -> int:
    bar = _Bar("quantizing")
    result, view = engine.model_service().quantize(
        args.input, args.type, output=args.output, allow_requantize=args.allow_requantize,
        progress=lambda done, total, name: bar(done, total), add=args.add)
    _Bar.done()
    print(f"Wrote {result.output} ({result.type}): {result.output_bytes / 1e6:,.1f} MB, "
          f"{result.output_bytes / result.input_bytes:.0%} of {result.input_bytes / 1e6:,.1f} MB, "
          f"in {result.seconds:.1f} s")
    if view is not None:
        print(f"Added '{view.key}' to the library.")
    return EXIT_OK


def _adapter(engine: Engine, args: argparse.Namespace) -> int:
    service = engine.model_service()
    if args.adapter_command == "add":
        a = service.add_adapter(args.key, args.file, scale=args.scale)
        print(f"'{args.key}' now carries {a.name} at scale {a.scale:g} (used from the next answer).")
    elif args.adapter_command == "remove":
        a = service.remove_adapter(args.key, args.adapter)
        print(f"Took {a.name} off '{args.key}'.")
    else:
        view = service.get(args.key)
        if args.json:
            print(json.dumps([{"path": a.path, "scale": a.scale} for a in view.adapters], indent=2))
        elif not view.adapters:
            print(f"'{args.key}' carries no adapters.")
        else:
            for a in view.adapters:
                print(f"{a.name}  scale {a.scale:g}  {a.path}")
    return EXIT_OK


class _Bar:
    """A one-line progress bar on stderr, only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        if sys.stderr.isatty() and total:
            sys.stderr.write(f"\r{self.label}: {done / total:6.1%}")
            sys.stderr.flush()

    @staticmethod
    def done() -> None:
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


class _HashProgress:
    def __call__(self, name: str, done: int, total: int) -> None:
        _Bar(f"checksum of {name}")(done, total)
