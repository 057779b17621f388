"""Reference numbers for @sbm/unet from the published score_sde PyTorch code.

Usage (Debian's python3-torch 1.13; no GPU, no CUDA extension needed):

    /usr/bin/python3 packages/unet/scripts/score-sde-reference.py <score_sde_pytorch checkout> <out dir>

It imports the reference model code from the checkout (nothing of it is copied here) and
1. prints the parameter count of the network of every CIFAR-10 config that @sbm/unet has a preset for;
2. writes small checkpoints in the trainer's format ({'model': DataParallel state dict, 'ema': {...}, 'step'})
   for NCSN++ variants that the score-sde fixtures do not cover, with inputs and outputs (model and EMA weights)
   as JSON, to <out dir>/<name>.pth and <name>.json (run `pnpm exec biome format --write` on them afterwards).

Two stand-ins make the reference importable on a CPU-only machine:
- `op.upfirdn2d` (a CUDA extension in the reference) is replaced by a direct implementation of upfirdn2d
  (zero-insertion upsampling, padding, true 2-D convolution with the FIR kernel, subsampling);
- `up_or_down_sampling.upsample_conv_2d` indexes a tensor with negative steps, which PyTorch rejects, so the
  fused FIR upsampling conv is replaced by the same computation with `torch.flip`.
- `ml_collections.ConfigDict` (not packaged in Debian) is replaced by an attribute dictionary.
"""

import json
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F


class AttrDict(dict):
  def __getattr__(self, name):
    try:
      return self[name]
    except KeyError as e:
      raise AttributeError(name) from e

  def __setattr__(self, name, value):
    self[name] = value


def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
  """[N, C, H, W]: upsample by zero insertion, pad, convolve with `kernel` (flipped: true convolution), subsample."""
  n, c, h, w = x.shape
  if up > 1:
    z = x.new_zeros((n, c, h, up, w, up))
    z[:, :, :, 0, :, 0] = x
    x = z.reshape(n, c, h * up, w * up)
  x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
  k = torch.flip(kernel, [0, 1]).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
  y = F.conv2d(x, k, groups=c)
  return y[:, :, ::down, ::down]


def install_stand_ins(root):
  sys.path.insert(0, root)
  op = types.ModuleType('op')
  op.upfirdn2d = upfirdn2d
  sys.modules['op'] = op
  mlc = types.ModuleType('ml_collections')
  mlc.ConfigDict = AttrDict
  sys.modules['ml_collections'] = mlc
  from models import up_or_down_sampling as uds

  def upsample_conv_2d(x, w, k=None, factor=2, gain=1):
    out_c, in_c, kh, kw = w.shape
    k = uds._setup_kernel(k if k is not None else [1] * factor) * (gain * factor ** 2)
    p = (k.shape[0] - factor) - (kw - 1)
    wt = torch.flip(w, [2, 3]).permute(1, 0, 2, 3)  # [in, out, kh, kw] for conv_transpose2d
    x = F.conv_transpose2d(x, wt, stride=factor, padding=0)
    return upfirdn2d(x, torch.tensor(k), pad=((p + 1) // 2 + factor - 1, p // 2 + 1))

  uds.upsample_conv_2d = upsample_conv_2d


CONFIGS = [
  'vp/cifar10_ddpmpp_continuous', 'vp/cifar10_ddpmpp_deep_continuous',
  'subvp/cifar10_ddpmpp_continuous', 'subvp/cifar10_ddpmpp_deep_continuous',
  'vp/cifar10_ncsnpp_continuous', 'vp/cifar10_ncsnpp_deep_continuous',
  'subvp/cifar10_ncsnpp_continuous', 'subvp/cifar10_ncsnpp_deep_continuous',
  've/cifar10_ncsnpp_continuous', 've/cifar10_ncsnpp_deep_continuous',
  'vp/ddpm/cifar10_continuous',
]

TINY = {'data.image_size': 8, 'model.nf': 8, 'model.ch_mult': (1, 2), 'model.num_res_blocks': 1,
        'model.attn_resolutions': (4,), 'model.dropout': 0.0}

# Small NCSN++ variants covering what the score-sde fixtures (DDPM++ and DDPM) do not.
VARIANTS = {
  # FIR BigGAN blocks, Fourier features of sigma, progressive_input 'residual' (fused FIR conv downsampling),
  # inputs in [0, 1], output divided by sigma.
  'ncsnpp_ve_tiny': ('ve/cifar10_ncsnpp_continuous', {}),
  # DDPM blocks with FIR conv up/down-sampling, progressive 'output_skip' and 'input_skip' with 'cat'.
  'ncsnpp_skip_tiny': ('ve/cifar10_ncsnpp_continuous', {
    'model.resblock_type': 'ddpm', 'model.progressive': 'output_skip', 'model.progressive_input': 'input_skip',
    'model.progressive_combine': 'cat', 'model.fourier_scale': 4.0}),
  # Progressive 'residual' both ways (fused FIR conv up/down-sampling), positional embedding with the sigma
  # table. (The reference's non-FIR `layerspp.Upsample` passes the size to F.interpolate as a scale factor and
  # fails, so progressive 'residual' only runs with FIR there.)
  'ncsnpp_residual_tiny': ('vp/cifar10_ncsnpp_continuous', {
    'model.progressive': 'residual', 'model.progressive_input': 'residual',
    'model.scale_by_sigma': True, 'data.centered': False, 'model.skip_rescale': False,
    'model.init_scale': 0.5}),
}


def load_config(name, overrides):
  import importlib
  config = importlib.import_module('configs.' + name.replace('/', '.')).get_config()
  for key, value in overrides.items():
    group, field = key.split('.')
    config[group][field] = value
  return config


def build(name, overrides=None):
  from models import utils as mutils
  import models.ddpm  # noqa: F401  (registers 'ddpm')
  import models.ncsnpp  # noqa: F401  (registers 'ncsnpp')
  config = load_config(name, overrides or {})
  return config, mutils.get_model(config.model.name)(config)


def main(root, out_dir):
  install_stand_ins(root)
  os.makedirs(out_dir, exist_ok=True)
  counts = {}
  for name in CONFIGS:
    _, model = build(name)
    counts[name] = sum(p.numel() for p in model.parameters())
    del model
  print(json.dumps(counts, indent=2))
  os.makedirs(out_dir, exist_ok=True)
  for i, (out_name, (name, overrides)) in enumerate(VARIANTS.items()):
    torch.manual_seed(100 + i)
    config, model = build(name, {**TINY, **overrides})
    # Random weights everywhere (the reference initializes many to zero), EMA = different random weights.
    with torch.no_grad():
      for p in model.parameters():
        p.add_(0.2 * torch.randn_like(p))
    ema = [p.detach().clone() + 0.05 * torch.randn_like(p) for p in model.parameters() if p.requires_grad]
    net = torch.nn.DataParallel(model)
    torch.save({'model': net.state_dict(), 'ema': {'decay': 0.999, 'num_updates': 3, 'shadow_params': ema},
                'step': 3}, os.path.join(out_dir, out_name + '.pth'))
    b, c, s = 2, config.data.num_channels, config.data.image_size
    x = torch.rand(b, c, s, s) if not config.data.centered else torch.randn(b, c, s, s)
    if config.model.embedding_type == 'fourier':
      time_cond = torch.tensor([0.05, 20.0])
    else:
      time_cond = torch.tensor([3.0, 950.0])
    model.eval()
    with torch.no_grad():
      out_model = model(x, time_cond)
      params = [p for p in model.parameters() if p.requires_grad]
      saved = [p.detach().clone() for p in params]
      for p, e in zip(params, ema):
        p.copy_(e)
      out_ema = model(x, time_cond)
      for p, v in zip(params, saved):
        p.copy_(v)
    json.dump({
      'config': name, 'overrides': {**TINY, **overrides}, 'model_name': config.model.name,
      'num_params': sum(p.numel() for p in model.parameters()), 'layout': 'NCHW', 'x_shape': list(x.shape),
      'x': x.flatten().tolist(), 'time_cond': time_cond.tolist(),
      'out_model': out_model.double().flatten().tolist(), 'out_ema': out_ema.double().flatten().tolist(),
    }, open(os.path.join(out_dir, out_name + '.json'), 'w'))
    print(out_name, sum(p.numel() for p in model.parameters()), file=sys.stderr)


if __name__ == '__main__':
  main(sys.argv[1], sys.argv[2])
