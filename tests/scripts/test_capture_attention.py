"""capture_attention.py on models the test builds itself (a tiny random GPT-2-style decoder, a
BERT-style encoder layer, nn.MultiheadAttention). Skips cleanly without torch."""
import importlib.util
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("capture_attention",
                                              REPO / "scripts" / "capture_attention.py")
capture_attention = importlib.util.module_from_spec(spec)
spec.loader.exec_module(capture_attention)

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))
TOOL = (BUILD if BUILD.is_absolute() else REPO / BUILD) / "sim" / "tools" / "spatten-trace"


class Gpt2Attention(nn.Module):
    """The Hugging Face GPT-2 attention's structure: fused c_attn, causal softmax, c_proj."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.num_heads, self.head_dim = heads, hidden // heads
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        self.last_probs = None

    def forward(self, x):
        b, t, h = x.shape
        q, k, v = self.c_attn(x).split(h, dim=2)
        q, k, v = (y.view(b, t, self.num_heads, self.head_dim).transpose(1, 2) for y in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        self.last_probs = scores.softmax(-1)
        out = (self.last_probs @ v).transpose(1, 2).reshape(b, t, h)
        return self.c_proj(out)


class Block(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.attn = Gpt2Attention(hidden, heads)
        self.mlp = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(),
                                 nn.Linear(4 * hidden, hidden))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGpt2(nn.Module):
    def __init__(self, vocab=50, positions=32, hidden=32, heads=4, layers=3):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, hidden), nn.Embedding(positions, hidden)
        self.h = nn.ModuleList(Block(hidden, heads) for _ in range(layers))

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h:
            x = block(x)
        return x


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.num_attention_heads = heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))

    def forward(self, x):
        b, t, h = x.shape
        d = h // self.num_attention_heads
        q, k, v = (m(x).view(b, t, -1, d).transpose(1, 2) for m in (self.query, self.key,
                                                                     self.value))
        return ((q @ k.transpose(-1, -2) / math.sqrt(d)).softmax(-1) @ v).transpose(1, 2)


def softmax_np(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_gpt2_style_trace_reproduces_the_models_attention(tmp_path):
    torch.manual_seed(0)
    model = TinyGpt2().eval()
    ids = torch.randint(0, 50, (1, 20))
    trace = capture_attention.capture(model, lambda: model(ids), causal=True, prompt_tokens=16)
    assert trace["q"].shape == (3, 4, 20, 8)
    assert trace["k"].shape == trace["v"].shape == trace["q"].shape
    assert bool(trace["causal"]) and int(trace["prompt_tokens"]) == 16
    for layer, block in enumerate(model.h):
        q, k = trace["q"][layer], trace["k"][layer]
        s = q @ k.transpose(0, 2, 1) / math.sqrt(8)
        s = np.where(np.triu(np.ones((20, 20), bool), 1), -np.inf, s)
        np.testing.assert_allclose(softmax_np(s), block.attn.last_probs[0].numpy(), atol=1e-5)
    capture_attention.save_trace(tmp_path / "t.npz", trace)
    assert sorted(np.load(tmp_path / "t.npz").files) == sorted(trace)
    assert not list(tmp_path.glob("*.tmp-*"))
    if TOOL.exists():  # the C++ reader accepts what the script writes, and can derive from it
        r = subprocess.run([str(TOOL), "validate", str(tmp_path / "t.npz")], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        assert "3 layers x 4 heads x 20 tokens x 8 dims, causal, prompt 16" in r.stdout
        r = subprocess.run([str(TOOL), "derive", "--trace", str(tmp_path / "t.npz"), "--out",
                            str(tmp_path / "w.csv"), "--token-keep", "1,0.5,0.5",
                            "--value-keep", "0.5"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert len((tmp_path / "w.csv").read_text().splitlines()) == 1 + 5 * 3 * 4 + 1


def test_bert_style_module_is_captured():
    torch.manual_seed(1)
    model = nn.Sequential(BertSelfAttention(24, 3), nn.Identity()).eval()
    x = torch.randn(2, 7, 24)
    trace = capture_attention.capture(model, lambda: model[0](x), causal=False)
    assert trace["q"].shape == (1, 3, 7, 8)
    expected = model[0].query(x)[0].view(7, 3, 8).transpose(0, 1).detach().numpy()
    np.testing.assert_allclose(trace["q"][0], expected, rtol=1e-6)
    assert int(trace["prompt_tokens"]) == 7


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_trace_reproduces_its_weights(batch_first):
    torch.manual_seed(2)
    mha = nn.MultiheadAttention(16, 2, batch_first=batch_first).eval()
    x = torch.randn(1, 9, 16) if batch_first else torch.randn(9, 1, 16)
    holder = {}

    def run():
        holder["out"], holder["w"] = mha(x, x, x, need_weights=True, average_attn_weights=False)

    trace = capture_attention.capture(mha, run, causal=False)
    assert trace["q"].shape == (1, 2, 9, 8)
    s = trace["q"][0] @ trace["k"][0].transpose(0, 2, 1) / math.sqrt(8)
    np.testing.assert_allclose(softmax_np(s), holder["w"][0].numpy(), atol=1e-5)


def test_a_model_without_attention_is_an_error():
    with pytest.raises(ValueError, match="no attention module"):
        capture_attention.capture(nn.Linear(2, 2), lambda: None, causal=False)


def _eager(config):
    # The attention probabilities are only returned by the eager implementation.
    config._attn_implementation = "eager"
    return config


def test_hugging_face_gpt2_and_bert_modules():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(3)
    for name, causal in (("gpt2", True), ("bert", False)):
        if name == "gpt2":
            config = transformers.GPT2Config(n_layer=2, n_head=2, n_embd=16, vocab_size=40,
                                             n_positions=32)
            model = transformers.GPT2Model(_eager(config)).eval()
        else:
            config = transformers.BertConfig(num_hidden_layers=2, num_attention_heads=2,
                                             hidden_size=16, intermediate_size=32, vocab_size=40)
            model = transformers.BertModel(_eager(config)).eval()
        ids = torch.randint(0, 40, (1, 12))
        holder = {}

        def run():
            holder["out"] = model(input_ids=ids, output_attentions=True)

        trace = capture_attention.capture(model, run, causal=causal, prompt_tokens=10)
        assert trace["q"].shape == (2, 2, 12, 8), name
        for layer in range(2):
            s = trace["q"][layer] @ trace["k"][layer].transpose(0, 2, 1) / math.sqrt(8)
            if causal:
                s = np.where(np.triu(np.ones((12, 12), bool), 1), -np.inf, s)
            np.testing.assert_allclose(softmax_np(s), holder["out"].attentions[layer][0].numpy(),
                                       atol=1e-5, err_msg=name)
