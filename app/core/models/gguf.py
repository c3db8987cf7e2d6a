"""Read a GGUF model file's header: what the model is, and whether the file is whole.

``gguf.GGUFReader`` (the reference reader) decodes every tokenizer array into numpy and takes
about 9 s on a 0.5B model here; showing a model's name in a file picker must be instant. This
reader walks the same header, skipping array payloads, and uses the ``gguf`` package's own
tables (value types, quantisation block sizes) so it stays in step with the format.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from app.core.errors import ModelError

_MAGIC = b"GGUF"
_SCALAR = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}
_STRING, _ARRAY = 8, 9
# Keys worth keeping in full; the tokenizer's vocabulary arrays are skipped.
_KEEP_ARRAYS: frozenset[str] = frozenset()


@dataclass
class GGUFInfo:
    """What a GGUF file says about itself.

    Attributes:
        path: The file.
        name: ``general.name``, or the file name.
        architecture: ``general.architecture`` (e.g. "llama", "qwen2").
        context_length: The context the model was trained for, if given.
        quantization: Human name of the file type ("Q4_K_M"), if given.
        size_bytes: The file's size.
        has_chat_template: Whether the file carries a chat template.
        metadata: Every scalar or string key/value of the header.
        parameters: The number of weights, summed over the tensors.
        tensors: Each tensor's name and shape (ggml order: the row length first).
    """

    path: Path
    name: str
    architecture: str | None
    context_length: int | None
    quantization: str | None
    size_bytes: int
    has_chat_template: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    parameters: int = 0
    tensors: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @property
    def family(self) -> str:
        """What kind of model this is: ``general.basename`` ("Qwen2.5-Coder"), else the architecture."""
        return str(self.metadata.get("general.basename") or self.architecture or "unknown")

    @property
    def licence(self) -> str | None:
        """``general.license`` ("apache-2.0"), when the file states one."""
        value = self.metadata.get("general.license")
        return str(value) if value else None

    @property
    def file_kind(self) -> str:
        """``general.type``: "model", or "adapter" for a LoRA adapter (older files say nothing: "model")."""
        return str(self.metadata.get("general.type") or "model")

    def parameters_label(self) -> str:
        """'1.5B', '135M': the header's ``general.size_label``, else counted from the tensors."""
        label = self.metadata.get("general.size_label")
        if label:
            return str(label)
        n = self.parameters
        return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M" if n >= 1e6 else f"{n:,}"


class _Reader:
    def __init__(self, fh: BinaryIO, path: Path) -> None:
        self.fh = fh
        self.path = path

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        data = self.fh.read(size)
        if len(data) != size:
            raise ModelError(f"{self.path}: the model file is truncated (its header ends early)")
        return struct.unpack(fmt, data)[0]

    def string(self) -> str:
        length = self.take("<Q")
        if length > 1 << 26:
            raise ModelError(f"{self.path}: the model file is damaged (a header string claims {length} bytes)")
        data = self.fh.read(length)
        if len(data) != length:
            raise ModelError(f"{self.path}: the model file is truncated (its header ends early)")
        return data.decode("utf-8", errors="replace")

    def value(self, vtype: int, keep: bool) -> Any:
        if vtype in _SCALAR:
            return self.take(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype = self.take("<I")
            count = self.take("<Q")
            if itype in _SCALAR and not keep:
                self.fh.seek(struct.calcsize(_SCALAR[itype]) * count, 1)
                return None
            items = [self.value(itype, keep) for _ in range(count)]
            return items if keep else None
        raise ModelError(f"{self.path}: the model file is damaged (unknown header value type {vtype})")


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read and check a GGUF file's header.

    Raises:
        ModelError: The file is missing, not GGUF, damaged, or shorter than its tensors need;
            the message names the file and the reason.
    """
    import gguf

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    size = path.stat().st_size
    with path.open("rb") as fh:
        magic = fh.read(4)
        if magic != _MAGIC:
            raise ModelError(f"{path}: not a GGUF model file (it starts with {magic!r}, not b'GGUF')")
        r = _Reader(fh, path)
        version = r.take("<I")
        if version not in (2, 3):
            raise ModelError(f"{path}: GGUF version {version} is not supported (2 or 3 expected)")
        n_tensors = r.take("<Q")
        n_kv = r.take("<Q")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            vtype = r.take("<I")
            val = r.value(vtype, keep=key in _KEEP_ARRAYS)
            if val is not None:
                meta[key] = val
        alignment = int(meta.get("general.alignment", gguf.GGUF_DEFAULT_ALIGNMENT))
        data_end = 0
        n_params = 0
        shapes: dict[str, tuple[int, ...]] = {}
        for _ in range(n_tensors):
            tname = r.string()
            n_dims = r.take("<I")
            dims = [r.take("<Q") for _ in range(n_dims)]
            shapes[tname] = tuple(dims)
            ttype = r.take("<I")
            offset = r.take("<Q")
            try:
                block, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(ttype)]
            except (ValueError, KeyError) as exc:
                raise ModelError(f"{path}: unknown tensor type {ttype}; this llama.cpp may be too old for it") from exc
            elements = 1
            for d in dims:
                elements *= d
            data_end = max(data_end, offset + elements * type_size // block)
            n_params += elements
        header_end = fh.tell()
    data_start = (header_end + alignment - 1) // alignment * alignment
    needed = data_start + data_end
    if size < needed:
        raise ModelError(
            f"{path}: the model file is truncated ({size:,} bytes, its tensors need {needed:,}); "
            "copy or download it again"
        )
    arch = meta.get("general.architecture")
    ctx = meta.get(f"{arch}.context_length") if arch else None
    ftype = meta.get("general.file_type")
    quant = None
    if isinstance(ftype, int):
        try:
            quant = gguf.LlamaFileType(ftype).name.removeprefix("MOSTLY_")
        except ValueError:
            quant = None
    return GGUFInfo(
        path=path,
        name=str(meta.get("general.name") or path.stem),
        architecture=str(arch) if arch else None,
        context_length=int(ctx) if isinstance(ctx, int) else None,
        quantization=quant,
        size_bytes=size,
        has_chat_template="tokenizer.chat_template" in meta,
        metadata=meta,
        parameters=n_params,
        tensors=shapes,
    )
