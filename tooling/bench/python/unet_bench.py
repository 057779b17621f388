"""PyTorch CPU twin of the DdpmUnet fixture of @sbm/test-utils, timed like tooling/bench/src/backend-bench.ts.

Same layers, order, padding and parameter count as the TypeScript network (TensorFlow "same" padding of the
stride-2 convolutions is reproduced with an explicit (0, 1, 0, 1) pad). Prints one JSON line:
{"torch": version, "threads": n, "params": count, "trainMs": [...], "forwardMs": [...]}.

Usage: python3 unet_bench.py --batch 16 --forward-batch 64 --runs 10 --warmup 3 --threads 2
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


def swish(x):
    return x * torch.sigmoid(x)


class GroupNorm(nn.GroupNorm):
    def __init__(self, channels, groups):
        super().__init__(groups, channels, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim, groups):
        super().__init__()
        self.norm1 = GroupNorm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb_dim, cout)
        self.norm2 = GroupNorm(cout, groups)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(swish(self.norm1(x)))
        h = h + self.temb(swish(temb))[:, :, None, None]
        h = self.conv2(swish(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = GroupNorm(c, groups)
        self.q, self.k, self.v, self.proj = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.norm(x).permute(0, 2, 3, 1).reshape(b, hh * ww, c)
        w = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / math.sqrt(c), dim=-1)
        out = self.proj(w @ self.v(h)).reshape(b, hh, ww, c).permute(0, 3, 1, 2)
        return x + out


class DdpmUnet(nn.Module):
    def __init__(self, in_ch=3, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, attn_resolutions=(), resolution=32, groups=8):
        super().__init__()
        self.ch, self.ch_mult, self.num_res_blocks = ch, ch_mult, num_res_blocks
        self.attn_resolutions, self.resolution = attn_resolutions, resolution
        self.temb0 = nn.Linear(ch, 4 * ch)
        self.temb1 = nn.Linear(4 * ch, 4 * ch)
        self.conv_in = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.down = nn.ModuleList()
        skips, c, res = [ch], ch, resolution
        for level, m in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                self.down.append(ResBlock(c, ch * m, 4 * ch, groups))
                c = ch * m
                if res in attn_resolutions:
                    self.down.append(AttnBlock(c, groups))
                skips.append(c)
            if level != len(ch_mult) - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2))
                skips.append(c)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(c, c, 4 * ch, groups), AttnBlock(c, groups), ResBlock(c, c, 4 * ch, groups)])
        self.up = nn.ModuleList()
        for level in reversed(range(len(ch_mult))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResBlock(c + skips.pop(), ch * ch_mult[level], 4 * ch, groups))
                c = ch * ch_mult[level]
                if res in attn_resolutions:
                    self.up.append(AttnBlock(c, groups))
            if level != 0:
                self.up.append(nn.Conv2d(c, c, 3, padding=1))
                res *= 2
        self.norm_out = GroupNorm(c, groups)
        self.conv_out = nn.Conv2d(c, in_ch, 3, padding=1)

    def forward(self, x, t):
        half = self.ch // 2
        freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000) / (half - 1)))
        args = (t * 1000)[:, None] * freqs[None, :]
        temb = self.temb1(swish(self.temb0(torch.cat([torch.sin(args), torch.cos(args)], dim=1))))
        hs = [self.conv_in(x)]
        for layer in self.down:
            if isinstance(layer, ResBlock):
                hs.append(layer(hs[-1], temb))
            elif isinstance(layer, AttnBlock):
                hs[-1] = layer(hs[-1])
            else:  # stride-2 conv with TensorFlow "same" padding (0 before, 1 after)
                hs.append(layer(F.pad(hs[-1], (0, 1, 0, 1))))
        h = hs[-1]
        h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, hs.pop()], dim=1), temb)
            elif isinstance(layer, AttnBlock):
                h = layer(h)
            else:  # nearest-neighbour x2 upsampling, then a 3x3 conv
                h = layer(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv_out(swish(self.norm_out(h)))


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--forward-batch", type=int, default=64)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = DdpmUnet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x0 = torch.randn(a.batch, 3, 32, 32)
    noise = torch.randn(a.batch, 3, 32, 32)
    t = torch.rand(a.batch)
    alpha_bar = torch.rand(a.batch) * 0.98 + 0.01

    def train_step():
        ab = alpha_bar[:, None, None, None]
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        loss = ((net(xt, t) - noise) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    xf = torch.randn(a.forward_batch, 3, 32, 32)
    tf_ = torch.rand(a.forward_batch)

    def forward():
        with torch.no_grad():
            return net(xf, tf_).sum().item()

    train = timed(train_step, a.runs, a.warmup)
    fwd = timed(forward, a.runs, a.warmup)
    params = sum(q.numel() for q in net.parameters())
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "params": params,
                      "trainMs": train, "forwardMs": fwd}))


if __name__ == "__main__":
    main()
