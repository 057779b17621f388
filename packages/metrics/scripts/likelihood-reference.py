"""Reference numbers for @sbm/metrics' likelihood from the published score_sde PyTorch code.

Usage (Debian's python3-torch 1.13, SciPy 1.10; CPU only):

    /usr/bin/python3 packages/metrics/scripts/likelihood-reference.py \
        <score_sde_pytorch checkout> <score-sde fixture dir> packages/metrics/test-fixtures/likelihood

then `pnpm exec biome format --write packages/metrics/test-fixtures/likelihood`.

Writes to the output directory `<checkpoint>.json` for the shared score_sde checkpoints (`ddpmpp_small`, `ddpm_small`, EMA weights):
   score_sde's own `likelihood.get_likelihood_fn` (imported from the checkout, unmodified) on uniformly dequantized
   random 8-bit images, with the Hutchinson probe it drew (re-drawn from the same torch seed) and the quantities it
   computes: bits/dim, `nfe`, and from the `solve_ivp` solution it integrates (observed by wrapping
   `scipy.integrate.solve_ivp`, which is then called unchanged) the latent `z`, `delta_logp` and the accepted steps,
   and a few evaluations `(t, y, dy/dt)` of its ODE right-hand side (drift and Hutchinson divergence) along its
   trajectory.

The network code is imported with the stand-ins of packages/unet/scripts/score-sde-reference.py (which see).
"""

import importlib.util
import json
import os
import sys
import types

import numpy as np
import torch
from scipy import integrate

HERE = os.path.dirname(os.path.abspath(__file__))


def f32(values):
  """Float32 values as the shortest decimal that round-trips (small JSON)."""
  return [float(repr(np.float32(v))) for v in np.asarray(values, dtype=np.float32).reshape(-1)]


# ---------------------------------------------------------------------------------------------------------------
# score_sde likelihood on the shared checkpoints.

def import_reference(root):
  spec = importlib.util.spec_from_file_location(
    'score_sde_reference', os.path.join(HERE, '..', '..', 'unet', 'scripts', 'score-sde-reference.py'))
  stand_ins = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(stand_ins)
  stand_ins.install_stand_ins(root)
  return stand_ins


class SolveIvpSpy:
  """`scipy.integrate` as seen by likelihood.py: records what `solve_ivp` returns and every evaluation of the
  right-hand side (the `ode_func` of likelihood.py) as (t, y, dy/dt)."""

  def __init__(self):
    self.solution = None
    self.calls = []

  def solve_ivp(self, fun, *args, **kwargs):
    def recorded(t, y):
      dy = fun(t, y)
      self.calls.append((float(t), np.array(y, dtype=np.float64), np.array(dy, dtype=np.float64)))
      return dy
    self.solution = integrate.solve_ivp(recorded, *args, **kwargs)
    return self.solution


# Times near which evaluations of the reference's right-hand side are kept (the first is t = eps, the last T).
RECORD_TIMES = [0.0, 1e-3, 1e-2, 0.1, 0.5, 1.0]


def likelihood_reference(stand_ins, fixture_dir, name, image_size, batch, seed, rtol, atol):
  import likelihood
  import sde_lib
  from models import utils as mutils
  from models.ema import ExponentialMovingAverage

  meta = json.load(open(os.path.join(fixture_dir, name + '.json')))
  overrides = dict(meta['overrides'])
  scale = image_size / overrides['data.image_size']
  overrides['data.image_size'] = image_size
  # Attention stays at the same level of the U-Net: its resolution scales with the image.
  overrides['model.attn_resolutions'] = tuple(int(r * scale) for r in overrides['model.attn_resolutions'])
  overrides['model.ch_mult'] = tuple(overrides['model.ch_mult'])
  config, model = stand_ins.build(meta['config'], overrides)
  state = torch.load(os.path.join(fixture_dir, name + '.pth'), map_location='cpu')
  model.load_state_dict({k[len('module.'):]: v for k, v in state['model'].items()})
  ema = ExponentialMovingAverage(model.parameters(), decay=config.model.ema_rate)
  ema.load_state_dict(state['ema'])
  ema.copy_to(model.parameters())
  model.eval()

  sde = sde_lib.VPSDE(beta_min=config.model.beta_min, beta_max=config.model.beta_max, N=config.model.num_scales)
  centered = bool(config.data.centered)
  scaler = (lambda v: v * 2. - 1.) if centered else (lambda v: v)
  inverse_scaler = (lambda v: (v + 1.) / 2.) if centered else (lambda v: v)

  gen = torch.Generator().manual_seed(seed)
  c = config.data.num_channels
  pixels = torch.randint(0, 256, (batch, c, image_size, image_size), generator=gen).float() / 255.
  # run_lib evaluates bpd on uniformly dequantized data: (x·255 + U[0, 1)) / 256, then the data scaler.
  data = scaler((pixels * 255. + torch.rand(pixels.shape, generator=gen)) / 256.)

  spy = SolveIvpSpy()
  likelihood.integrate = spy
  fn = likelihood.get_likelihood_fn(sde, inverse_scaler, hutchinson_type='Rademacher', rtol=rtol, atol=atol,
                                    eps=1e-5)
  torch.manual_seed(seed)
  probe = torch.randint_like(data, low=0, high=2).float() * 2 - 1.  # the draw likelihood_fn makes first
  torch.manual_seed(seed)
  bpd, z, nfe = fn(model, data)
  likelihood.integrate = integrate
  sol = spy.solution
  n = data.numel()
  delta_logp = sol.y[n:, -1]
  prior_logp = sde.prior_logp(z).double().numpy()
  return {
    'checkpoint': name, 'weights': 'ema', 'config': meta['config'], 'overrides': overrides, 'centered': centered,
    'sde': {'kind': 'vp', 'beta_min': config.model.beta_min, 'beta_max': config.model.beta_max,
            'N': config.model.num_scales},
    'rtol': rtol, 'atol': atol, 'eps': 1e-5, 'hutchinson_type': 'Rademacher', 'offset': 7. - inverse_scaler(-1.),
    'layout': 'NCHW', 'x_shape': list(data.shape), 'x': f32(data.numpy()), 'probe': f32(probe.numpy()),
    'bpd': bpd.double().tolist(), 'delta_logp': delta_logp.tolist(), 'prior_logp': prior_logp.tolist(),
    'nfe': int(nfe), 'steps': len(sol.t) - 1, 'z': f32(z.numpy()),
    'evaluations': [{'t': t, 'y': y.tolist(), 'dy': dy.tolist()} for t, y, dy in
                    (min(spy.calls, key=lambda c: abs(c[0] - target)) for target in RECORD_TIMES)],
  }


# The 16×16 checkpoints evaluated at 4×4 (attention at 2, the same level): the weights do not depend on the image
# size. A random network needs ~100 evaluations at rtol = atol = 1e-2 and ~350 at 1e-3 (each a forward and a
# backward pass in the test), so the CI comparison uses 1e-2 on both sides.
IMAGE_SIZE = 4
TOLERANCE = 1e-2
LIKELIHOOD_CASES = [('ddpmpp_small', 2, 11), ('ddpm_small', 1, 12)]  # (checkpoint, batch, seed)


def main(root, fixture_dir, out_dir):
  os.makedirs(out_dir, exist_ok=True)
  stand_ins = import_reference(root)
  torch.set_num_threads(2)
  for name, batch, seed in LIKELIHOOD_CASES:
    ref = likelihood_reference(stand_ins, fixture_dir, name, IMAGE_SIZE, batch, seed, TOLERANCE, TOLERANCE)
    print(name, 'nfe', ref['nfe'], 'steps', ref['steps'], 'bpd', ref['bpd'], file=sys.stderr)
    json.dump(ref, open(os.path.join(out_dir, f'{name}.json'), 'w'))


if __name__ == '__main__':
  main(sys.argv[1], sys.argv[2], sys.argv[3])
