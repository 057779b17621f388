"""Independent float64 numpy reference for the full-loop golden tests of @sbm/samplers (full-loop.test.ts).

Written from the papers and diffusers' documented scheduler semantics, not from the TypeScript code:
- DDIM (Song et al. 2021), eta = 0, on the DDPM linear schedule betas = linspace(1e-4, 0.02, 1000),
  50 'leading' timesteps 980, 960, ..., 0, previous alpha-bar = 1 after the last step (set_alpha_to_one).
- DPM-Solver++(2M) (Lu et al. 2022b) on the continuous VP SDE (beta_min = 0.1, beta_max = 20), 10 steps
  uniform in lambda = log(alpha/sigma) from t = 1 to t = 1e-3, first-order first and last step.
The model is an arbitrary fixed nonlinear noise predictor eps(x, t) = 0.5 tanh(x) + 1e-4 x t.
Run: python3 packages/samplers/reference/full-loop-golden.py
"""
import numpy as np

X_T = np.array([[1.2, -0.5], [0.3, 2.1], [-1.7, 0.8], [0.05, -2.4]])


def eps_model(x, t):
    return 0.5 * np.tanh(x) + 1e-4 * x * t


def ddim_discrete():
    betas = np.linspace(1e-4, 0.02, 1000)
    alphas_cumprod = np.cumprod(1.0 - betas)
    timesteps = np.arange(0, 50)[::-1] * (1000 // 50)
    x = X_T.copy()
    for t in timesteps:
        prev = t - 1000 // 50
        a_t = alphas_cumprod[t]
        a_prev = alphas_cumprod[prev] if prev >= 0 else 1.0
        eps = eps_model(x, t)
        x0 = (x - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
        x = np.sqrt(a_prev) * x0 + np.sqrt(1 - a_prev) * eps
    return x


def vp(t):
    log_alpha = -0.25 * t * t * (20 - 0.1) - 0.5 * t * 0.1
    alpha = np.exp(log_alpha)
    sigma = np.sqrt(1 - alpha * alpha)
    return alpha, sigma, np.log(alpha) - np.log(sigma)


def t_of_lambda(lam):
    lo, hi = 0.0, 1.0  # lambda decreases in t; bisection
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if vp(mid)[2] > lam:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def dpmpp_2m():
    n = 10
    lams = np.linspace(vp(1.0)[2], vp(1e-3)[2], n + 1)
    ts = [1.0] + [t_of_lambda(l) for l in lams[1:-1]] + [1e-3]
    x = X_T.copy()
    prev_x0, prev_h = None, None
    for i in range(n):
        a, s, lam = vp(ts[i])
        a_next, s_next, lam_next = vp(ts[i + 1])
        x0 = (x - s * eps_model(x, ts[i])) / a
        h = lam_next - lam
        if prev_x0 is None or i == n - 1:
            d = x0
        else:
            r = prev_h / h
            d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * prev_x0
        x = (s_next / s) * x - a_next * np.expm1(-h) * d
        prev_x0, prev_h = x0, h
    return x


np.set_printoptions(precision=10)
print("ddim", repr(ddim_discrete().flatten().tolist()))
print("dpmpp2m", repr(dpmpp_2m().flatten().tolist()))
