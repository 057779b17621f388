"""Reference numbers for @sbm/metrics' feature statistics, Fréchet distance, .npz reader, IS and KID.

Run from the repository root with Debian's python3 (numpy 1.24, scipy 1.10):

    /usr/bin/python3 packages/metrics/scripts/stats-reference.py packages/metrics/test-fixtures/stats

Matrices are not stored: both sides build them from the same mulberry32 uniform stream (see
`packages/metrics/src/stats.test-support.ts`), so only seeds and results go into `reference.json`. The `.npz` files are
written by numpy itself (np.savez / np.savez_compressed) for the reader tests.
"""

import json
import os
import sys

import numpy as np
import scipy.linalg


def mulberry32(seed, count):
    """The mulberry32 generator: `count` uniforms in [0, 1), exactly as the TypeScript twin."""
    a = seed & 0xFFFFFFFF
    out = np.empty(count)
    for i in range(count):
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = ((a ^ (a >> 15)) * (1 | a)) & 0xFFFFFFFF
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & 0xFFFFFFFF)) & 0xFFFFFFFF) ^ t
        out[i] = ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0
    return out


def random_matrix(seed, rows, cols):
    """[rows, cols] row-major, entries uniform in [-1, 1)."""
    return (2.0 * mulberry32(seed, rows * cols) - 1.0).reshape(rows, cols)


def random_covariance(seed, dim, rank):
    """A A^T / rank for A [dim, rank] from `random_matrix`: positive definite if rank >= dim, else PSD of that rank."""
    a = random_matrix(seed, dim, rank)
    s = a @ a.T / rank
    return s


def pytorch_fid_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance (the algorithm, restated)."""
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    offset_used = False
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
        offset_used = True
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)), offset_used


def eigh_distance(mu1, sigma1, mu2, sigma2):
    """Second, independent evaluation: tr sqrt(S1 S2) = sum sqrt(eig(S1^1/2 S2 S1^1/2)) with eigh."""
    w, v = np.linalg.eigh(sigma1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    lam = np.linalg.eigvalsh(root @ sigma2 @ root)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sqrt(np.clip(lam, 0, None)).sum())


def factor_distance(mu1, a1, mu2, a2):
    """Third evaluation, free of the square-root-of-rounding error of the other two: with sigma_k = A_k A_k^T / r_k,
    tr sqrt(S1 S2) is the nuclear norm of A1^T A2 / sqrt(r1 r2), i.e. a sum of singular values (numpy SVD)."""
    r1, r2 = a1.shape[1], a2.shape[1]
    nuclear = np.linalg.svd(a1.T @ a2, compute_uv=False).sum() / np.sqrt(r1 * r2)
    diff = mu1 - mu2
    s1, s2 = a1 @ a1.T / r1, a2 @ a2.T / r2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * nuclear)


def frechet_cases():
    cases = []
    specs = [
        # name, dim, (seed, rank) of sigma1, (seed, rank) of sigma2, mean seeds
        ('spd-4', 4, (11, 8), (12, 8), (13, 14)),
        ('spd-64', 64, (21, 96), (22, 80), (23, 24)),
        ('psd-64-rank-40-30', 64, (31, 40), (32, 30), (33, 34)),
        ('spd-256', 256, (41, 300), (42, 320), (43, 44)),
        ('psd-256-rank-200-full', 256, (51, 200), (52, 400), (53, 54)),
    ]
    for name, dim, (s1, r1), (s2, r2), (m1, m2) in specs:
        sigma1 = random_covariance(s1, dim, r1)
        sigma2 = random_covariance(s2, dim, r2)
        mu1 = random_matrix(m1, 1, dim)[0]
        mu2 = random_matrix(m2, 1, dim)[0]
        sqrtm_value, offset_used = pytorch_fid_distance(mu1, sigma1, mu2, sigma2)
        cases.append({
            'name': name, 'dim': dim,
            'sigma1': {'seed': s1, 'rank': r1}, 'sigma2': {'seed': s2, 'rank': r2},
            'mu1Seed': m1, 'mu2Seed': m2,
            'scipySqrtm': sqrtm_value, 'sqrtmOffsetUsed': offset_used,
            'eigh': eigh_distance(mu1, sigma1, mu2, sigma2),
            'factorSvd': factor_distance(mu1, random_matrix(s1, dim, r1), mu2, random_matrix(s2, dim, r2)),
            'traceSum': float(np.trace(sigma1) + np.trace(sigma2)),
        })
    return cases


def statistics_case():
    n, d = 300, 37  # more rows than one internal block (256) of FeatureStatistics
    x = random_matrix(61, n, d) * 3.0 + 5.0  # offset mean: exercises the centring
    return {'seed': 61, 'n': n, 'dim': d, 'scale': 3.0, 'offset': 5.0,
            'mean': x.mean(axis=0).tolist(), 'cov': np.cov(x, rowvar=False).ravel().tolist()}


def inception_score(logits, splits):
    """improved-gan / TTUR: softmax, split into `splits` parts, exp(mean KL(p(y|x) || p(y)))."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = p.shape[0]
    scores = []
    for k in range(splits):
        part = p[k * n // splits:(k + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part) - np.log(py))).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def is_cases():
    out = []
    for seed, n, c, splits, scale in [(71, 50, 7, 5, 4.0), (72, 40, 1008, 10, 6.0), (73, 33, 3, 4, 2.0)]:
        logits = random_matrix(seed, n, c) * scale
        mean, std = inception_score(logits, splits)
        out.append({'seed': seed, 'n': n, 'numClasses': c, 'splits': splits, 'scale': scale, 'mean': mean, 'std': std})
    return out


def kid_full_mmd(x, y):
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, as torch-fidelity's mmd2 with mmd_est='unbiased'."""
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = x.shape[0], y.shape[0]
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.sum() / (m * n))


def kid_cases():
    out = []
    for sx, sy, na, nb, d, shift in [(81, 82, 30, 30, 5, 0.3), (83, 84, 64, 64, 16, 0.0), (85, 86, 25, 25, 3, 1.0),
                                     (87, 88, 40, 50, 4, 0.5)]:
        x = random_matrix(sx, na, d)
        y = random_matrix(sy, nb, d) + shift
        out.append({'seedA': sx, 'seedB': sy, 'nA': na, 'nB': nb, 'dim': d, 'shift': shift, 'mmd2': kid_full_mmd(x, y)})
    return out


def write_npz_files(out_dir):
    """numpy-written archives for the reader: stored and deflated, float32/float64/int64, C and Fortran order."""
    a64 = np.arange(12, dtype=np.float64).reshape(3, 4) / 7.0 - 0.5
    a32 = (np.arange(6, dtype=np.float32) * np.float32(1.1) - np.float32(2.0)).reshape(2, 3)
    ints = np.array([-3, 0, 2**40 + 5, 7], dtype=np.int64)
    fortran = np.asfortranarray(a64)
    big = np.arange(5, dtype='>f8') * 0.25
    scalar = np.float64(np.pi)
    arrays = dict(a64=a64, a32=a32, ints=ints, fortran=fortran, big=big, scalar=scalar)
    np.savez(os.path.join(out_dir, 'arrays.npz'), **arrays)
    np.savez_compressed(os.path.join(out_dir, 'arrays-compressed.npz'), **arrays)
    # pytorch-fid style statistics (np.savez(path, mu=mu, sigma=sigma), float64) and a float32 compressed twin.
    feats = random_matrix(91, 40, 6)
    mu = feats.mean(axis=0)
    sigma = np.cov(feats, rowvar=False)
    np.savez(os.path.join(out_dir, 'fid-stats.npz'), mu=mu, sigma=sigma)
    np.savez_compressed(os.path.join(out_dir, 'fid-stats-f32.npz'), mu=mu.astype(np.float32), sigma=sigma.astype(np.float32))
    # An array numpy can write but this reader does not support (float16).
    np.savez(os.path.join(out_dir, 'float16.npz'), half=np.arange(3, dtype=np.float16))
    return {
        'arrays': {k: {'shape': list(np.shape(v)), 'dtype': np.asarray(v).dtype.str,
                       'values': np.asarray(v).ravel(order='C').tolist() if np.asarray(v).dtype.kind != 'i'
                       else [str(int(t)) for t in np.asarray(v).ravel()]}
                   for k, v in arrays.items()},
        'fidStats': {'seed': 91, 'n': 40, 'dim': 6, 'mu': mu.tolist(), 'sigma': sigma.ravel().tolist(),
                     'mu32': mu.astype(np.float32).astype(np.float64).tolist(),
                     'sigma32': sigma.astype(np.float32).astype(np.float64).ravel().tolist()},
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test-fixtures', 'stats')
    os.makedirs(out_dir, exist_ok=True)
    reference = {
        'generator': 'packages/metrics/scripts/stats-reference.py',
        'numpy': np.__version__, 'scipy': scipy.__version__,
        'mulberry32Check': mulberry32(1, 3).tolist(),
        'frechet': frechet_cases(),
        'statistics': statistics_case(),
        'inceptionScore': is_cases(),
        'kid': kid_cases(),
        'npz': write_npz_files(out_dir),
    }
    with open(os.path.join(out_dir, 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=1)
        f.write('\n')
    for case in reference['frechet']:
        print(f"{case['name']}: sqrtm {case['scipySqrtm']:.12g} eigh {case['eigh']:.12g} svd {case['factorSvd']:.12g} "
              f"(offset used: {case['sqrtmOffsetUsed']})")


if __name__ == '__main__':
    main()
