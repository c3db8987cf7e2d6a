"""Small GGUF files the tests write with the ``gguf`` package, and that llama.cpp really loads.

``tiny_llama`` writes a llama-architecture model with random weights (F32 or F16) and a
SentencePiece-style vocabulary: the byte pieces, letters and a few words, plus whatever special
tokens a family's chat template uses (as control tokens, so they are parsed as one token each).
It answers nonsense, but everything around the answer is real: llama.cpp's loader, tokenizer,
BOS handling, the chat template from the header, quantization.

``lora_adapter`` writes an adapter in llama.cpp's LoRA GGUF layout for a given model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

N_EMBD, N_FF, N_HEAD, N_LAYER = 256, 512, 4, 2  # rows of 256: K-quants need them

NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6
WORDS = ["▁the", "▁a", "▁is", "▁of", "▁and", "▁to", "▁in", "▁it", "▁you", "▁what", "▁hello", "▁answer",
         "▁question", "▁system", "▁user"]


def tiny_llama(path: Path, *, template: str | None = None, specials: Sequence[str] = (),
               bos: str = "<s>", eos: str = "</s>", add_bos: bool = True, f16: bool = False,
               name: str = "Tiny test llama", seed: int = 0, extra_kv: dict[str, object] | None = None) -> Path:
    """Write a tiny llama model to ``path``.

    Args:
        template: The chat template to store (None: none).
        specials: Extra control tokens (a family's role markers).
        bos / eos: The texts of the BOS and EOS tokens (added as control tokens when new).
        add_bos: ``tokenizer.ggml.add_bos_token``.
        f16: Store the 2-D weights as F16 (else F32).
    """
    import gguf

    rng = np.random.default_rng(seed)
    tokens: list[str] = ["<unk>", "<s>", "</s>"]
    types = [UNKNOWN, CONTROL, CONTROL]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        types.append(BYTE)
    for piece in [*"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "▁", *WORDS]:
        tokens.append(piece)
        types.append(NORMAL)
    for special in [bos, eos, *specials]:
        if special not in tokens:
            tokens.append(special)
            types.append(CONTROL)
    scores = [0.0] * len(tokens)
    for i, t in enumerate(tokens):
        if types[i] == NORMAL:
            scores[i] = -float(len(tokens) - i) / 100 + len(t)  # longer pieces win
    n_vocab = len(tokens)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_context_length(512)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(tokens.index(bos))
    w.add_eos_token_id(tokens.index(eos))
    w.add_unk_token_id(0)
    w.add_add_bos_token(add_bos)
    w.add_add_eos_token(False)
    if template is not None:
        w.add_chat_template(template)
    for key, value in (extra_kv or {}).items():
        if isinstance(value, str):
            w.add_string(key, value)
        elif isinstance(value, float):
            w.add_float32(key, value)
        else:
            w.add_uint32(key, int(value))  # type: ignore[call-overload]

    def mat(rows: int, cols: int) -> np.ndarray:
        a = rng.normal(0, 0.02, size=(rows, cols)).astype(np.float32)
        return a.astype(np.float16) if f16 else a

    def norm() -> np.ndarray:
        return np.ones(N_EMBD, dtype=np.float32)

    w.add_tensor("token_embd.weight", mat(n_vocab, N_EMBD))
    w.add_tensor("output_norm.weight", norm())
    w.add_tensor("output.weight", mat(n_vocab, N_EMBD))
    for i in range(N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", norm())
        for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(p + t + ".weight", mat(N_EMBD, N_EMBD))
        w.add_tensor(p + "ffn_norm.weight", norm())
        w.add_tensor(p + "ffn_gate.weight", mat(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_up.weight", mat(N_FF, N_EMBD))
        w.add_tensor(p + "ffn_down.weight", mat(N_EMBD, N_FF))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def lora_adapter(path: Path, base: Path, *, rank: int = 8, alpha: float = 16.0, seed: int = 1,
                 targets: Sequence[str] = ("attn_q", "attn_v"), std: float = 0.05,
                 architecture: str | None = None, shape_of: Path | None = None) -> Path:
    """Write a LoRA adapter for ``base`` (its shapes read from its header) with random low-rank tensors.

    Args:
        targets: Which weights of every block it adapts.
        std: Spread of the random values (large enough to change greedy tokens).
        architecture: Claim another architecture (default: the base's).
        shape_of: Take the shapes from this model instead (a mismatched adapter).
    """
    import gguf

    from app.core.models.gguf import read_gguf_info

    info = read_gguf_info(shape_of or base)
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), architecture or info.architecture or "llama")
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", alpha)
    for name, dims in sorted(info.tensors.items()):
        if not name.startswith("blk.") or name.split(".")[2] not in targets or len(dims) != 2:
            continue
        n_in, n_out = dims  # ggml order
        # numpy shapes are the reverse of ggml's: lora_a is ggml [n_in, r], lora_b is ggml [r, n_out]
        w.add_tensor(f"{name}.lora_a", rng.normal(0, std, size=(rank, n_in)).astype(np.float32))
        w.add_tensor(f"{name}.lora_b", rng.normal(0, std, size=(n_out, rank)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
