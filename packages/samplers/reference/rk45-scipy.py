"""SciPy's RK45 (`scipy.integrate.solve_ivp(method='RK45')`) on small ODEs, for @sbm/samplers' `integrateRk45`.

Usage (Debian's python3-scipy 1.10): `/usr/bin/python3 packages/samplers/reference/rk45-scipy.py`, then
`pnpm exec biome format --write packages/samplers/reference/rk45-scipy.json`.

Writes rk45-scipy.json beside this script: per case the evaluation count `nfev`, the accepted times `t` and the
final state `y`. The same right-hand sides are written in src/rk45-integrator.test.ts.
"""

import json
import math
import os

import numpy as np
import scipy
from scipy import integrate

def van_der_pol(t, y):
  return np.array([y[1], 1.5 * (1 - y[0] ** 2) * y[1] - y[0]])


def forced_decay(t, y):
  return np.array([-2.0 * y[0] + math.sin(3 * t), -0.5 * y[1] * y[0] + math.cos(t)])


def lotka_volterra(t, y):
  return np.array([1.1 * y[0] - 0.4 * y[0] * y[1], 0.1 * y[0] * y[1] - 0.4 * y[1]])


RK45_CASES = [
  ('van_der_pol', van_der_pol, (0.0, 6.0), [2.0, 0.0], 1e-6, 1e-9),
  ('forced_decay_backward', forced_decay, (1.0, 0.0), [0.5, -1.0], 1e-3, 1e-6),
  ('lotka_volterra', lotka_volterra, (0.0, 15.0), [10.0, 5.0], 1e-5, 1e-5),
]


def rk45_reference():
  cases = []
  for name, fun, span, y0, rtol, atol in RK45_CASES:
    sol = integrate.solve_ivp(fun, span, np.array(y0), method='RK45', rtol=rtol, atol=atol)
    assert sol.status == 0, sol.message
    cases.append({'name': name, 't_span': list(span), 'y0': y0, 'rtol': rtol, 'atol': atol, 'nfev': int(sol.nfev),
                  't': sol.t.tolist(), 'y': sol.y[:, -1].tolist()})
  return {'scipy': scipy.__version__, 'cases': cases}


if __name__ == '__main__':
  out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rk45-scipy.json')
  json.dump(rk45_reference(), open(out, 'w'))
