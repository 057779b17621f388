"""Monte-Carlo reference moments for the replacement samplers of @sbm/guidance (inpaint.ts, colorize.ts).

An independent numpy implementation of score_sde's replacement scheme (Song et al. 2021, App. I): after
every predictor / corrector update the known part of the state is replaced by the known data re-noised to
the time of the next model evaluation. Data: a correlated 3-D Gaussian N(mu, Sigma) under the VP SDE
(beta_min 0.1, beta_max 20), whose exact score -(alpha^2 Sigma + sigma^2 I)^{-1} (x - alpha mu) is the
model. Inpainting knows coordinate 0; colorization knows the channel mean. The moments of the unknown part
(coordinates 1, 2; for colorization its projections on V) are written with the closed-form Gaussian
conditional, whose difference from them is the method's bias (replacement is not exact conditioning).

Run: /usr/bin/python3 packages/guidance/scripts/replacement_reference.py > packages/guidance/test-fixtures/replacement-moments.json
"""
import json

import numpy as np

B_MIN, B_MAX = 0.1, 20.0
MU = np.array([0.5, -0.3, 0.2])
SIGMA = np.array([[1.0, 0.6, 0.3], [0.6, 0.8, -0.2], [0.3, -0.2, 0.5]])
KNOWN = 1.2  # coordinate 0 for inpainting
GREY = 0.4  # channel mean for colorization
U = np.ones(3) / np.sqrt(3.0)
V = np.array([[-2.0, 1.0, 1.0], [0.0, 1.0, -1.0]]).T / np.array([np.sqrt(6.0), np.sqrt(2.0)])
CHUNKS, BATCH = 100, 2000  # Langevin step sizes are batch averages: batches of the tests' size


def log_alpha(t):
    return -0.25 * t * t * (B_MAX - B_MIN) - 0.5 * t * B_MIN


def alpha(t):
    return np.exp(log_alpha(t))


def sigma(t):
    return np.sqrt(-np.expm1(2 * log_alpha(t)))


def lam(t):
    return log_alpha(t) - 0.5 * np.log(-np.expm1(2 * log_alpha(t)))


def t_from_lam(l):
    # log alpha^2 = -log(1 + e^{-2 lam}) = -0.5 t^2 (B_MAX - B_MIN) - t B_MIN
    c = np.log1p(np.exp(-2 * l))
    a = 0.5 * (B_MAX - B_MIN)
    return (-B_MIN + np.sqrt(B_MIN**2 + 4 * a * c)) / (2 * a)


def score(x, t):
    c = alpha(t) ** 2 * SIGMA + sigma(t) ** 2 * np.eye(3)
    return -(x - alpha(t) * MU) @ np.linalg.inv(c)


class Inpaint:
    def project(self, v):
        out = np.zeros_like(v)
        out[..., 0] = v[..., 0]
        return out

    known = np.array([KNOWN, 0.0, 0.0])

    @staticmethod
    def unknown(x):
        return x[..., 1:]


class Colorize:
    def project(self, v):
        return (v @ U)[..., None] * U

    known = np.sqrt(3.0) * GREY * U

    @staticmethod
    def unknown(x):
        return x @ V


def replace(task, x, t, z):
    return x - task.project(x) + alpha(t) * task.known + sigma(t) * task.project(z)


def pc(task, rng, steps=200, t_min=1e-3, snr=0.16):
    ts = np.linspace(1.0, t_min, steps + 1)
    x = rng.standard_normal((CHUNKS, BATCH, 3))
    x = replace(task, x, ts[0], rng.standard_normal(x.shape))
    for i in range(steps):
        t, s = ts[i], ts[i + 1]
        a = alpha(t) / alpha(s)
        # Langevin corrector, step from batch-averaged norms (score_sde)
        g = score(x, t)
        z = rng.standard_normal(x.shape)
        ratio = np.linalg.norm(z, axis=2).mean(1) / np.linalg.norm(g, axis=2).mean(1)
        eps = (2 * a * a * (snr * ratio) ** 2)[:, None, None]
        x = x + eps * g + np.sqrt(2 * eps) * z
        x = replace(task, x, t, rng.standard_normal(x.shape))
        # reverse-diffusion predictor, no noise on the last step
        v = sigma(t) ** 2 - a * a * sigma(s) ** 2
        x = (2 - a) * x + v * score(x, t)
        if i < steps - 1:
            x = x + np.sqrt(v) * rng.standard_normal(x.shape)
            x = replace(task, x, s, rng.standard_normal(x.shape))
    return x


def ddim(task, rng, steps=50, t_min=1e-3):
    """DDIM, eta = 0, the known part re-noised with one fixed draw z (x_k(t) = alpha x_known + sigma z)."""
    ts = np.linspace(1.0, t_min, steps)
    x = rng.standard_normal((CHUNKS, BATCH, 3))
    zk = rng.standard_normal(x.shape)
    for i in range(steps):
        t = ts[i]
        x = replace(task, x, t, zk)
        eps = -sigma(t) * score(x, t)
        x0 = (x - sigma(t) * eps) / alpha(t)
        x = x0 if i == steps - 1 else alpha(ts[i + 1]) * x0 + sigma(ts[i + 1]) * eps
    return x


def dpmpp2m(task, rng, steps=20, t_min=1e-3):
    """DPM-Solver++(2M), logSNR grid T..t_min (last step lands at t_min), fixed known-part noise."""
    ts = t_from_lam(np.linspace(lam(1.0), lam(t_min), steps + 1))
    ts[0], ts[-1] = 1.0, t_min
    x = rng.standard_normal((CHUNKS, BATCH, 3))
    zk = rng.standard_normal(x.shape)
    prev, prev_h = None, None
    for i in range(steps):
        t, s = ts[i], ts[i + 1]
        x = replace(task, x, t, zk)
        m0 = (x + sigma(t) ** 2 * score(x, t)) / alpha(t)
        h = lam(s) - lam(t)
        c0 = -alpha(s) * np.expm1(-h)
        d = m0 if prev is None else m0 + (m0 - prev) / (2 * prev_h / h)
        x = sigma(s) / sigma(t) * x + c0 * d
        prev, prev_h = m0, h
    return x


def conditional(task):
    if task is Inpaint:
        k, u = [0], [1, 2]
        s_uk = SIGMA[np.ix_(u, k)]
        s_kk = SIGMA[np.ix_(k, k)]
        mean = MU[u] + s_uk @ np.linalg.solve(s_kk, np.array([KNOWN]) - MU[k])
        cov = SIGMA[np.ix_(u, u)] - s_uk @ np.linalg.solve(s_kk, s_uk.T)
        return mean, cov
    r = np.column_stack([U, V])  # rotated coordinates: y = r^T x, y_0 known = sqrt(3) GREY
    mu, s = r.T @ MU, r.T @ SIGMA @ r
    mean = mu[1:] + s[1:, :1] @ ((np.sqrt(3.0) * GREY - mu[:1]) / s[0, 0])
    cov = s[1:, 1:] - s[1:, :1] @ s[:1, 1:] / s[0, 0]
    return mean, cov


def main():
    out = {"n": CHUNKS * BATCH, "mu": MU.tolist(), "Sigma": SIGMA.tolist(), "known": KNOWN, "grey": GREY}
    cases = {"inpaintPC": (Inpaint, pc), "inpaintDDIM": (Inpaint, ddim), "inpaintDPMpp": (Inpaint, dpmpp2m),
             "colorizePC": (Colorize, pc)}
    for seed, (name, (task, sampler)) in enumerate(cases.items()):
        rng = np.random.default_rng(1000 + seed)
        y = task.unknown(sampler(task(), rng)).reshape(-1, 2)
        mean, cov = conditional(task)
        out[name] = {"mean": y.mean(0).tolist(), "cov": np.cov(y.T).tolist(),
                     "conditionalMean": mean.tolist(), "conditionalCov": cov.tolist()}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
