"""Reference numbers for @sbm/metrics' FID Inception network.

Usage (Debian's python3-torch 1.13 and python3-torchvision 0.14; CPU only):

    /usr/bin/python3 packages/metrics/scripts/inception-reference.py packages/metrics/test-fixtures/inception

The network is pytorch-fid's `fid_inception_v3()` (mseitzer/pytorch-fid, src/pytorch_fid/inception.py): torchvision's
`Inception3(num_classes=1008, aux_logits=False)` whose Mixed_5b/c/d, Mixed_6b..e, Mixed_7b and Mixed_7c are replaced
by the FID variants of the blocks. Those variants are re-stated below (only the pooling of the pool branch differs
from torchvision: average pooling without the padded cells, and max pooling in Mixed_7c); pytorch-fid itself is not
imported because it downloads the real weights on construction.

The real weights (pt_inception-2015-12-05-6726825d.pth, ~95 MB) cannot go into git, so the script writes a state
dict with the same keys and shapes, in torch's legacy (non-zip) serialization like the real file, that stays small:
- every conv weight is `base.as_strided(shape, stride, offset)` into ONE shared pseudo-random float32 storage of
  2^14 elements (overlapping strides, a distinct offset per tensor); the fc weight is a view of a second small
  storage scaled by 1/sqrt(2048) (its fan-in); torch.save keeps views as (storage, offset, size, stride);
- each BatchNorm's running mean and variance are set from the actual pre-BN activations of the calibration images
  (data-dependent initialisation, layer by layer in execution order, through forward pre-hooks), adding half the
  layer's mean variance to every channel's variance (so that no channel is amplified much: a random network
  amplifies float32 rounding layer after layer); gamma and beta are mild deterministic values (views of two shared
  1024-element storages). Activations stay O(1) through all blocks; their standard deviations are printed and
  stored.

Written to <out dir>:
- fid_inception_strided.pth: that state dict (legacy format);
- fid_inception_bad_keys.pth: the same state dict re-saved with Mixed_6e.branch7x7_1.conv.weight removed, fc as
  torchvision's ImageNet head ([1000, 2048], [1000]) and an extra AuxLogits.fc.weight, for the loader's errors;
- reference.json: the parameter count of the real model's state dict (without num_batches_tracked), the input
  image formula and sizes, block activation stds, PyTorch's own float32-vs-float64 error, and the layout of
  reference.bin;
- reference.bin: float32 little-endian: the preprocessed inputs (resize to 299x299 + 2x - 1, NHWC) sampled at rows
  and columns `sample`, then pool3 [n, 2048], then logits [n, 1008].
The reference forward runs in float64 on the float32 weights, so it is the exact result up to float64 rounding.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.inception import Inception3, InceptionA, InceptionC, InceptionE, BasicConv2d


class FidInceptionA(InceptionA):
  def forward(self, x):
    b1 = self.branch1x1(x)
    b5 = self.branch5x5_2(self.branch5x5_1(x))
    b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
    bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
    return torch.cat([b1, b5, b3, bp], 1)


class FidInceptionC(InceptionC):
  def forward(self, x):
    b1 = self.branch1x1(x)
    b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
    b7d = self.branch7x7dbl_1(x)
    for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
      b7d = m(b7d)
    bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False))
    return torch.cat([b1, b7, b7d, bp], 1)


class FidInceptionE(InceptionE):
  def __init__(self, in_channels, max_pool):
    super().__init__(in_channels)
    self.max_pool = max_pool

  def forward(self, x):
    b1 = self.branch1x1(x)
    b3 = self.branch3x3_1(x)
    b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
    bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
    bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
    if self.max_pool:
      pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
    else:
      pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
    return torch.cat([b1, b3, bd, self.branch_pool(pooled)], 1)


def fid_inception():
  net = Inception3(num_classes=1008, aux_logits=False, init_weights=False)
  net.Mixed_5b = FidInceptionA(192, pool_features=32)
  net.Mixed_5c = FidInceptionA(256, pool_features=64)
  net.Mixed_5d = FidInceptionA(288, pool_features=64)
  net.Mixed_6b = FidInceptionC(768, channels_7x7=128)
  net.Mixed_6c = FidInceptionC(768, channels_7x7=160)
  net.Mixed_6d = FidInceptionC(768, channels_7x7=160)
  net.Mixed_6e = FidInceptionC(768, channels_7x7=192)
  net.Mixed_7b = FidInceptionE(1280, max_pool=False)
  net.Mixed_7c = FidInceptionE(2048, max_pool=True)
  return net.eval()


BLOCKS = ['Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1', 'Conv2d_3b_1x1', 'Conv2d_4a_3x3',
          'maxpool2', 'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d',
          'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c', 'avgpool']


def forward(net, x):
  """pytorch-fid's InceptionV3 (resize_input, normalize_input) up to pool3, then the fc layer: x NCHW in [0, 1]."""
  x = F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=False)
  pre = 2 * x - 1
  h = pre
  stds = {}
  for name in BLOCKS:
    h = getattr(net, name)(h)
    stds[name] = float(h.std())
  pool3 = torch.flatten(h, 1)
  return pre, pool3, net.fc(pool3), stds


# Input images: a formula evaluated identically by the TypeScript test (inception-v3.test.ts), H x W x C, in (0, 1).
INPUTS = [
  {'h': 32, 'w': 32, 'c': 3, 'ky': 1, 'kx': 2, 'phase': 0.0, 'hf': 0.08},
  {'h': 299, 'w': 299, 'c': 3, 'ky': 3, 'kx': 2, 'phase': 1.0, 'hf': 0.08},
  {'h': 384, 'w': 512, 'c': 3, 'ky': 2, 'kx': 5, 'phase': 2.0, 'hf': 0.02},
  {'h': 28, 'w': 28, 'c': 1, 'ky': 2, 'kx': 1, 'phase': 3.0, 'hf': 0.08},
  # A CIFAR-10-sized batch for the batched extraction (inception-features.test.ts).
  {'h': 32, 'w': 32, 'c': 3, 'ky': 2, 'kx': 1, 'phase': 4.0, 'hf': 0.08},
  {'h': 32, 'w': 32, 'c': 3, 'ky': 1, 'kx': 3, 'phase': 5.0, 'hf': 0.08},
  {'h': 32, 'w': 32, 'c': 3, 'ky': 3, 'kx': 3, 'phase': 6.0, 'hf': 0.08},
]
FORMULA = ('0.5 + 0.22 sin(2 pi ky (y + 0.5) / h + 0.8 c + phase) + 0.18 cos(2 pi kx (x + 0.5) / w - 0.5 c)'
           ' + hf sin(0.9 x + 1.3 y + 2 c + phase), rounded to float32')


def formula_image(spec):
  y = np.arange(spec['h'], dtype=np.float64)[:, None, None]
  x = np.arange(spec['w'], dtype=np.float64)[None, :, None]
  c = np.arange(spec['c'], dtype=np.float64)[None, None, :]
  ph = spec['phase']
  v = (0.5 + 0.22 * np.sin(2 * math.pi * spec['ky'] * (y + 0.5) / spec['h'] + 0.8 * c + ph)
       + 0.18 * np.cos(2 * math.pi * spec['kx'] * (x + 0.5) / spec['w'] - 0.5 * c)
       + spec['hf'] * np.sin(0.9 * x + 1.3 * y + 2 * c + ph))
  return v.astype(np.float32)  # H, W, C


def to_input(img):
  """HWC float32 → NCHW float64, grey tiled to RGB like PIL's convert('RGB') in pytorch-fid."""
  t = torch.from_numpy(img.astype(np.float64)).permute(2, 0, 1)[None]
  return t.repeat(1, 3, 1, 1) if t.shape[1] == 1 else t


def fill_strided(net, base, fc_base):
  """Conv weights as overlapping strided views of `base`, fc weight a view of `fc_base`."""
  n = base.numel()
  convs = [(name, m) for name, m in net.named_modules() if isinstance(m, BasicConv2d)]
  for k, (name, m) in enumerate(convs):
    o, i, kh, kw = m.conv.weight.shape
    stride_h = kw + 2
    stride_i = kh * stride_h + 1
    for stride_o in (13, 11, 7, 5, 3, 2, 1):
      span = (o - 1) * stride_o + (i - 1) * stride_i + (kh - 1) * stride_h + (kw - 1) + 1
      if span <= n - 1024:
        break
    else:
      raise RuntimeError(f'{name}: view does not fit the base storage')
    offset = (k * 2749) % (n - span)
    m.conv.weight = torch.nn.Parameter(base.as_strided((o, i, kh, kw), (stride_o, stride_i, stride_h, 1), offset),
                                       requires_grad=False)
  # BatchNorm gamma and beta: mild deterministic values, views of two small shared storages (keeps the file small).
  j = torch.arange(1024, dtype=torch.float64)
  gamma_base = (1 + 0.25 * torch.sin(0.7 * j)).float()
  beta_base = (0.2 * torch.cos(1.3 * j)).float()
  for k, (name, m) in enumerate(convs):
    c = m.bn.num_features
    m.bn.weight = torch.nn.Parameter(gamma_base.as_strided((c,), (1,), (37 * k) % (1024 - c)), requires_grad=False)
    m.bn.bias = torch.nn.Parameter(beta_base.as_strided((c,), (1,), (53 * k) % (1024 - c)), requires_grad=False)
  cls, feat = net.fc.weight.shape
  net.fc.weight = torch.nn.Parameter(fc_base.as_strided((cls, feat), (3, 1), 17), requires_grad=False)
  j = torch.arange(cls, dtype=torch.float64)
  net.fc.bias = torch.nn.Parameter((0.1 * torch.sin(0.37 * j)).float(), requires_grad=False)
  return len(convs)


def calibrate(net, images):
  """Sets every BatchNorm's running stats from its input on `images` (data-dependent init), in execution order."""
  bns = [m.bn for m in net.modules() if isinstance(m, BasicConv2d)]

  def pre_hook(bn, inputs):
    (x,) = inputs
    var = x.double().var(dim=(0, 2, 3), unbiased=False)
    bn.running_mean.copy_(x.double().mean(dim=(0, 2, 3)).float())
    bn.running_var.copy_((var + 0.5 * var.mean()).float())

  handles = [bn.register_forward_pre_hook(pre_hook) for bn in bns]
  with torch.no_grad():
    batch = torch.cat([F.interpolate(to_input(img).float(), size=(299, 299), mode='bilinear',
                                     align_corners=False) for img in images])
    net(2 * batch - 1)
  for h in handles:
    h.remove()


def main():
  out_dir = sys.argv[1]
  os.makedirs(out_dir, exist_ok=True)
  torch.manual_seed(0)

  net = fid_inception()
  state = net.state_dict()
  param_count = sum(v.numel() for k, v in state.items() if not k.endswith('num_batches_tracked'))
  print(f'pytorch-fid FID Inception state dict: {param_count} elements (without num_batches_tracked), '
        f'{len(state)} keys')

  gen = torch.Generator().manual_seed(2015)
  base = torch.randn(2 ** 14, generator=gen, dtype=torch.float32)
  fc_base = torch.randn(2 ** 13, generator=gen, dtype=torch.float32) / math.sqrt(2048)
  n_convs = fill_strided(net, base, fc_base)
  images = [formula_image(s) for s in INPUTS]
  calibrate(net, images)

  state = net.state_dict()
  torch.save(state, os.path.join(out_dir, 'fid_inception_strided.pth'), _use_new_zipfile_serialization=False)
  bad = dict(state)
  del bad['Mixed_6e.branch7x7_1.conv.weight']
  bad['fc.weight'] = fc_base.as_strided((1000, 2048), (3, 1), 17)
  bad['fc.bias'] = state['fc.bias'][:1000]
  bad['AuxLogits.fc.weight'] = fc_base.as_strided((1000, 768), (2, 1), 5)
  torch.save(bad, os.path.join(out_dir, 'fid_inception_bad_keys.pth'), _use_new_zipfile_serialization=False)

  ref = fid_inception()
  ref.load_state_dict(state)
  ref = ref.double().eval()
  sample = list(range(0, 299, 13)) + [298]
  pre_samples, pool3s, logitss, block_stds = [], [], [], []
  with torch.no_grad():
    for img in images:
      pre, pool3, logits, stds = forward(ref, to_input(img))
      pre_samples.append(pre[0].permute(1, 2, 0)[sample][:, sample].numpy())
      pool3s.append(pool3[0].numpy())
      logitss.append(logits[0].numpy())
      block_stds.append(stds)
  # PyTorch's own float32 forward against the float64 one: max |f32 - f64| / max |f64| (the float32 noise level).
  ref32 = fid_inception()
  ref32.load_state_dict(state)
  f32_err = []
  with torch.no_grad():
    for img, p64, l64 in zip(images, pool3s, logitss):
      _, p32, l32, _ = forward(ref32.eval(), to_input(img).float())
      f32_err.append({'pool3': float('%.3g' % (np.abs(p32[0].double().numpy() - p64).max() / np.abs(p64).max())),
                      'logits': float('%.3g' % (np.abs(l32[0].double().numpy() - l64).max() / np.abs(l64).max()))})
  print('torch float32 vs float64, max-abs relative:', f32_err)
  for s, stds in zip(INPUTS, block_stds):
    print(f"{s['h']}x{s['w']}x{s['c']}: " + ', '.join(f'{k} {v:.3g}' for k, v in stds.items()))

  pre_arr = np.stack(pre_samples).astype('<f4')
  pool3_arr = np.stack(pool3s).astype('<f4')
  logits_arr = np.stack(logitss).astype('<f4')
  with open(os.path.join(out_dir, 'reference.bin'), 'wb') as f:
    for a in (pre_arr, pool3_arr, logits_arr):
      f.write(a.tobytes())
  layout, offset = {}, 0
  for name, a in (('preprocessed', pre_arr), ('pool3', pool3_arr), ('logits', logits_arr)):
    layout[name] = {'offset': offset, 'shape': list(a.shape)}
    offset += a.size
  meta = {
    'source': 'packages/metrics/scripts/inception-reference.py (torch %s)' % torch.__version__,
    'paramCount': param_count,
    'convLayers': n_convs,
    'inputs': INPUTS,
    'formula': FORMULA,
    'sample': sample,
    'layout': layout,
    'blockStd': [{k: float('%.4g' % v) for k, v in stds.items()} for stds in block_stds],
    'torchFloat32RelErr': f32_err,
    'pool3Std': [float('%.4g' % a.std()) for a in pool3_arr],
  }
  with open(os.path.join(out_dir, 'reference.json'), 'w') as f:
    json.dump(meta, f, indent=2)
    f.write('\n')
  for name in ('fid_inception_strided.pth', 'fid_inception_bad_keys.pth', 'reference.bin', 'reference.json'):
    print(name, os.path.getsize(os.path.join(out_dir, name)), 'bytes')


if __name__ == '__main__':
  main()
