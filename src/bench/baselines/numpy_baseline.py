#!/usr/bin/env python3
"""Vectorized numpy/scipy baseline for `dcomp perf`.

The same operations as dcomp's perf cases, written the way a careful numpy user would: whole-matrix
sparse products instead of Python loops over rows, all n workers' local gradients at once as one
(n x d) array, top-k by np.argpartition along rows, HOSVD batched over workers with np.linalg.eigh.
It reads the LIBSVM files with its own small parser (no sklearn), splits rows contiguously (the
first N mod n shards one row longer, as dcomp's --split contiguous), and times every operation with
time.perf_counter: warm-up, calls per sample calibrated to ~target_sample_ms, samples until both
`reps` and `min_time_ms` are reached.

Usage: numpy_baseline.py CONFIG.json   (written by dcomp perf). Prints one JSON object on stdout:
  {"numpy": ver, "scipy": ver, "results": {id: {"samples_us": [...], "inner": I, "check": [...], "note": "..."}},
   "errors": {id: message}}
`check` is a result vector (gradient, iterate after a few steps from zero, or C(v)) that dcomp
compares with its own to show that both sides computed the same thing.
"""
import json
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.special import expit


def parse_libsvm(path):
    """Minimal LIBSVM reader: labels, 1-based ascending indices, '#' comments, blank lines."""
    labels, indptr, indices, values = [], [0], [], []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.split(b"#", 1)[0].split()
            if not line:
                continue
            labels.append(float(line[0]))
            for token in line[1:]:
                idx, val = token.split(b":", 1)
                indices.append(int(idx) - 1)
                values.append(float(val))
            indptr.append(len(indices))
    labels = np.asarray(labels)
    distinct = np.unique(labels)
    if len(distinct) != 2:
        raise ValueError(f"{path}: expected two labels, found {len(distinct)}")
    b = np.where(labels == distinct[0], -1.0, 1.0)
    idx = np.asarray(indices, dtype=np.int32)
    d = int(idx.max()) + 1 if len(idx) else 0
    A = sp.csr_matrix((np.asarray(values), idx, np.asarray(indptr, dtype=np.int64)), shape=(len(b), d))
    return A, b


def measure(fn, cfg):
    warmup_ms, target_ms = cfg["warmup_ms"], cfg["target_sample_ms"]
    reps, min_time_ms, max_time_ms = cfg["reps"], cfg["min_time_ms"], cfg.get("max_time_ms", 20000)
    calls = 0
    w0 = time.perf_counter()
    while calls < 2 or (time.perf_counter() - w0) * 1e3 < warmup_ms:
        fn()
        calls += 1
    per_call_ms = (time.perf_counter() - w0) * 1e3 / calls
    inner = max(1, round(target_ms / per_call_ms)) if per_call_ms > 0 else 1
    samples = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) * 1e6 / inner)
        spent = (time.perf_counter() - start) * 1e3
        if (len(samples) >= reps and spent >= min_time_ms) or spent >= max_time_ms:
            break
    return samples, inner


def test_point(d):
    """The point dcomp also uses for per-call cases: x_j = 0.1 sin(j + 1)."""
    return 0.1 * np.sin(np.arange(1, d + 1, dtype=np.float64))


def shard_bounds(N, n):
    base, longer = divmod(N, n)
    sizes = np.full(n, base, dtype=np.int64)
    sizes[:longer] += 1
    return np.concatenate(([0], np.cumsum(sizes)))


class Logreg:
    """f(x) = (1/n) sum_i f_i(x), f_i = mean softplus(-b a^T x) over shard i + (lam/2)|x|^2."""

    def __init__(self, A, b, lam, n):
        self.A, self.b, self.lam, self.n = A, b, lam, n
        self.N, self.d = A.shape
        self.At = A.T.tocsr()
        bounds = shard_bounds(self.N, n)
        sizes = np.diff(bounds)
        # weight of each row in (1/n) sum_i (1/N_i) sum_{r in shard i}
        self.row_weight = np.repeat(1.0 / (n * sizes), sizes)
        self.row_inv_size = np.repeat(1.0 / sizes, sizes)
        # W (n x N): row i holds the per-row coefficients of shard i, so W @ A stacks the n local
        # data gradients; its data array is overwritten in place on every call.
        self.W = sp.csr_matrix((np.ones(self.N), np.arange(self.N, dtype=np.int32), bounds), shape=(n, self.N))
        Ac = A.tocsc()
        self.csc_rows = Ac.indices
        self.csc_cols = np.repeat(np.arange(self.d), np.diff(Ac.indptr))
        self.csc_signed = Ac.data * b[Ac.indices]

    def full_gradient(self, x, with_loss=True):
        """Returns (f(x), grad f(x)) with the (1/n) sum_i (1/N_i) weighting (= plain mean for n = 1).
        The iterations pass with_loss=False: they only need the gradient, so numpy skips the softplus."""
        z = -self.b * (self.A @ x)
        coef = -self.b * expit(z) * self.row_weight
        grad = self.At @ coef + self.lam * x
        if not with_loss:
            return None, grad
        loss = float(np.dot(np.logaddexp(0.0, z), self.row_weight))
        return loss + 0.5 * self.lam * float(x @ x), grad

    def local_gradients(self, x):
        """All n local gradients at once, as an (n x d) array."""
        z = -self.b * (self.A @ x)
        self.W.data[:] = -self.b * expit(z) * self.row_inv_size
        G = (self.W @ self.A).toarray()
        G += self.lam * x
        return G

    def importance_a(self, x, v, eta):
        """w_j = f(x) - f(x - eta v_j e_j) for all j in O(nnz) (single node, n = 1)."""
        p = -self.b * (self.A @ x)
        sp_p = np.logaddexp(0.0, p)
        u = self.csc_signed * (eta * v)[self.csc_cols]
        delta = sp_p[self.csc_rows] - np.logaddexp(0.0, p[self.csc_rows] + u)
        w = np.bincount(self.csc_cols, weights=delta, minlength=self.d) / self.N
        step = x - eta * v
        return w + 0.5 * self.lam * (x * x - step * step)


# Timed runs select with np.argpartition (the fast numpy way; ties in no particular order). The
# check runs set EXACT_TIES and select with a stable sort instead, which breaks ties by the smaller
# index as dcomp (spec section 3) does, so that the compared vectors are the same computation.
EXACT_TIES = False


def largest(keys, k):
    """Indices of the k largest keys along the last axis."""
    if EXACT_TIES:
        return np.argsort(-keys, axis=-1, kind="stable")[..., :k]
    return np.argpartition(-keys, k - 1, axis=-1)[..., :k]


def topk_rows(D, k):
    """Keep the k largest |.| of each row of D."""
    idx = largest(np.abs(D), k)
    C = np.zeros_like(D)
    np.put_along_axis(C, idx, np.take_along_axis(D, idx, axis=1), axis=1)
    return C, idx


def topk_vector(v, k):
    idx = largest(np.abs(v), k)
    return idx, v[idx]


def sparse_of(v, idx):
    out = np.zeros_like(v)
    out[idx] = v[idx]
    return out


# ---- per-call compressors on one vector v at point x (single node) ----

def imp_a(prob, x, v, eta, k):
    w = prob.importance_a(x, v, eta)
    return largest(w, k)


def inner_grad(prob, x, v, eta, w):
    _, g = prob.full_gradient(x - eta * (w * v), with_loss=False)
    return -eta * v * g


def imp_b(prob, x, v, eta, k, M, tau0=1.0):
    d = len(v)
    logw = np.full(d, -np.log(d))
    tau = 0.0
    for m in range(M):
        gg = inner_grad(prob, x, v, eta, np.exp(logw))
        if m == 0:
            tau = tau0 / np.max(np.abs(gg))
        logw = logw - tau * gg
        top = logw.max()
        logw -= top + np.log(np.exp(logw - top).sum())
    return largest(logw, k)


def imp_c(prob, x, v, eta, k, M, tau0=1.0):
    w = np.ones(len(v))
    tau = 0.0
    for m in range(M):
        gg = inner_grad(prob, x, v, eta, w)
        if m == 0:
            tau = tau0 / np.max(np.abs(gg))
        w = np.clip(w - tau * gg, 0.0, 1.0)
    # ties in w go to the larger |v|: lexsort by (-w, -|v|)
    order = np.lexsort((-np.abs(v), -w))
    return order[:k]


def hosvd_batch(V, dims, r):
    """Truncated HOSVD of each row of V (n x d), order 3, ranks r; returns the reconstructions."""
    n, d = V.shape
    I1, I2, I3 = dims
    X = np.zeros((n, I1 * I2 * I3))
    X[:, :d] = V
    X = X.reshape(n, I1, I2, I3)
    grams = (
        np.einsum("nabc,nAbc->naA", X, X),
        np.einsum("nabc,naBc->nbB", X, X),
        np.einsum("nabc,nabC->ncC", X, X),
    )
    U = [np.linalg.eigh(g)[1][:, :, ::-1][:, :, :r] for g in grams]
    G = np.einsum("nabc,nai->nibc", X, U[0])
    G = np.einsum("nibc,nbj->nijc", G, U[1])
    G = np.einsum("nijc,nck->nijk", G, U[2])
    Y = np.einsum("nijk,nai->najk", G, U[0])
    Y = np.einsum("najk,nbj->nabk", Y, U[1])
    Y = np.einsum("nabk,nck->nabc", Y, U[2])
    return Y.reshape(n, -1)[:, :d]


# ---- one iteration of each method; state is a dict so that steps can be timed repeatedly ----

def gd_init(prob, x0, op):
    return {"x": x0.copy()}


def gd_step(prob, s, op):
    _, g = prob.full_gradient(s["x"], with_loss=False)
    s["x"] -= op["step"] * g


def ef21_init(prob, x0, op, compress):
    G = compress(prob.local_gradients(x0), op)
    return {"x": x0.copy(), "G": G, "g": G.mean(axis=0)}


def ef21_step(prob, s, op, compress):
    s["x"] -= op["step"] * s["g"]
    C = compress(prob.local_gradients(s["x"]) - s["G"], op)
    s["G"] += C
    s["g"] += C.sum(axis=0) / prob.n


def topk_compress(D, op):
    return topk_rows(D, op["k"])[0]


def hosvd_compress(D, op):
    return hosvd_batch(D, op["dims"], op["r"])


def cgd_imp_a_step(prob, s, op):
    x = s["x"]
    _, v = prob.full_gradient(x, with_loss=False)
    S = imp_a(prob, x, v, op["step"], op["k"])
    x[S] -= op["step"] * v[S]


def ssgd_init(prob, x0, op):
    return {"x": x0.copy(), "E": np.zeros((prob.n, prob.d))}


def topk_ssgd_step(prob, s, op):
    E = s["E"]
    E += op["step"] * prob.local_gradients(s["x"])
    Sp, _ = topk_rows(E, op["k"])
    E -= Sp
    s["x"] -= Sp.sum(axis=0) / prob.n


def gtopk_step(prob, s, op):
    n, k = prob.n, op["k"]
    E = s["E"]
    E += op["step"] * prob.local_gradients(s["x"])
    U, own = topk_rows(E, k)  # leaves: each worker's top-k of acc_i, as dense rows; own = their supports
    stride = 1
    while stride < n:  # recursive halving: node i receives from i + stride
        lower = np.arange(0, n - stride, 2 * stride)
        U[lower] += U[lower + stride]
        U[lower], _ = topk_rows(U[lower], k)
        stride *= 2
    mask = U[0] != 0
    s["x"][mask] -= U[0][mask] / n
    # spec v2 (the authors' code): acc_i - s_i * gMask, only each worker's own selected values on gMask
    rows = np.arange(n)[:, None]
    hit = mask[own]
    E[np.broadcast_to(rows, own.shape)[hit], own[hit]] = 0.0


METHODS = {
    "gd": (gd_init, gd_step),
    "ef21-topk": (lambda p, x0, op: ef21_init(p, x0, op, topk_compress), lambda p, s, op: ef21_step(p, s, op, topk_compress)),
    "ef21-hosvd": (lambda p, x0, op: ef21_init(p, x0, op, hosvd_compress), lambda p, s, op: ef21_step(p, s, op, hosvd_compress)),
    "cgd-imp-a": (gd_init, cgd_imp_a_step),
    "topk-ssgd": (ssgd_init, topk_ssgd_step),
    "gtopk": (ssgd_init, gtopk_step),
}


# ---- mlp (spec section 2): layer by layer, weights (out x in, row-major) then bias ----

class Mlp:
    """The same network as dcomp's mlp (ReLU hidden layers, one logit, logistic loss, lambda = 0),
    on the sparse CSR input (scipy) or on a dense copy of it (BLAS); single node."""

    def __init__(self, A, b, hidden):
        self.A, self.b = A, b
        self.N, p = A.shape
        self.At = A.T.tocsr()
        self.Ad = A.toarray()
        self.sizes = [p] + list(hidden) + [1]
        Ac = A.tocsc()
        self.csc_rows = Ac.indices
        self.csc_cols = np.repeat(np.arange(p), np.diff(Ac.indptr))
        self.csc_vals = Ac.data
        # (p x nnz) 0/1 matrix: column sums of per-non-zero terms by feature
        self.by_col = sp.csr_matrix((np.ones(len(self.csc_cols)), (self.csc_cols, np.arange(len(self.csc_cols)))), shape=(p, len(self.csc_cols)))

    @property
    def d(self):
        return sum(self.sizes[l] * self.sizes[l + 1] + self.sizes[l + 1] for l in range(len(self.sizes) - 1))

    def unpack(self, x):
        Ws, bs, at = [], [], 0
        for l in range(len(self.sizes) - 1):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            Ws.append(x[at:at + n_out * n_in].reshape(n_out, n_in))
            at += n_out * n_in
            bs.append(x[at:at + n_out])
            at += n_out
        return Ws, bs

    def loss_gradient(self, x, dense):
        Ws, bs = self.unpack(x)
        A = self.Ad if dense else self.A
        layers = len(Ws)
        pre = [A @ Ws[0].T + bs[0]]
        acts = [None]
        for l in range(1, layers):
            a = np.maximum(pre[-1], 0.0)
            acts.append(a)
            pre.append(a @ Ws[l].T + bs[l])
        m = -self.b * pre[-1][:, 0]
        loss = float(np.mean(np.logaddexp(0.0, m)))
        delta = (-self.b * expit(m) / self.N)[:, None]
        grads = [None] * layers
        for l in range(layers - 1, 0, -1):
            grads[l] = (delta.T @ acts[l], delta.sum(axis=0))
            delta = (delta @ Ws[l]) * (pre[l - 1] > 0)
        g0 = (delta.T @ self.Ad) if dense else (self.At @ delta).T
        grads[0] = (g0, delta.sum(axis=0))
        return loss, np.concatenate([part for gW, gb in grads for part in (gW.ravel(), gb)])

    def importance_a(self, x, v, eta):
        """w_j = f(x) - f(x - eta v_j e_j) for every parameter of a one-hidden-layer network: each
        parameter moves one hidden unit (first-layer weight: on the rows of its feature; bias: every
        row) or the logit directly (output weights and bias), vectorised over (non-zero, unit) pairs."""
        if len(self.sizes) != 3:
            raise ValueError("mlp importance (a) baseline: one hidden layer only")
        Ws, bs = self.unpack(x)
        Vw, Vb = self.unpack(v)
        p, h = self.sizes[0], self.sizes[1]
        wout = Ws[1][0]
        Z = self.A @ Ws[0].T + bs[0]
        q = -self.b * (np.maximum(Z, 0.0) @ wout + bs[1][0])
        sig, spl = expit(q), np.logaddexp(0.0, q)

        def decrease(rows, dz):
            u = -self.b[rows] * dz
            with np.errstate(over="ignore", invalid="ignore"):
                small = -np.log1p(sig[rows] * np.expm1(np.clip(u, -1.0, 1.0)))
                large = spl[rows] - np.logaddexp(0.0, q[rows] + u)
            return np.where(np.abs(u) <= 1.0, small, large)

        def relu_change(z, dpre):
            moved = z + dpre
            return np.where(z > 0, np.where(moved > 0, dpre, -z), np.where(moved > 0, moved, 0.0))

        rows = self.csc_rows
        steps = eta * Vw[0]  # h x p
        dpre = -steps[:, self.csc_cols].T * self.csc_vals[:, None]  # nnz x h
        terms = decrease(rows[:, None], wout[None, :] * relu_change(Z[rows], dpre))
        w_first = (self.by_col @ terms).T  # h x p
        all_rows = np.arange(self.N)[:, None]
        w_bias = decrease(all_rows, wout[None, :] * relu_change(Z, -eta * Vb[0][None, :])).sum(axis=0)
        w_out = decrease(all_rows, -eta * Vw[1][0][None, :] * np.maximum(Z, 0.0)).sum(axis=0)
        w_out_bias = decrease(np.arange(self.N), np.full(self.N, -eta * Vb[1][0])).sum()
        w = np.concatenate([w_first.ravel(), w_bias, w_out, [w_out_bias]]) / self.N
        w[eta * v == 0] = 0.0
        return w


def mlp_gradient_op(mlp, cfg):
    """Times the sparse-input and the dense-input forms, reports the faster (and says which)."""
    x = test_point(mlp.d)
    best = None
    for dense in (False, True):
        samples, inner = measure(lambda: mlp.loss_gradient(x, dense), cfg)
        if best is None or np.median(samples) < np.median(best[0][0]):
            best = ((samples, inner), dense)
    (samples, inner), dense = best
    loss, g = mlp.loss_gradient(x, dense)
    return (samples, inner), list(g) + [loss], ("dense" if dense else "sparse") + " input (the faster of sparse and dense)"


def exact(fn):
    """fn() with the spec's tie rule in every selection."""
    global EXACT_TIES
    EXACT_TIES = True
    try:
        return fn()
    finally:
        EXACT_TIES = False


def run_op(op, data, cfg, problems):
    kind = op["op"]
    if kind == "topk":
        rng = np.random.default_rng(0)
        v = rng.standard_normal(op["d"])
        return measure(lambda: topk_vector(v, op["k"]), cfg), None
    if kind == "parse":
        samples = []
        for _ in range(max(1, op.get("reps", 3))):
            t0 = time.perf_counter()
            parse_libsvm(op["path"])
            samples.append((time.perf_counter() - t0) * 1e6)
        return (samples, 1), None
    A, b = data[op["dataset"]]
    if kind in ("mlp-gradient", "mlp-imp-a"):
        key = ("mlp", op["dataset"], tuple(op["hidden"]))
        if key not in problems:
            problems[key] = Mlp(A, b, op["hidden"])
        mlp = problems[key]
        if kind == "mlp-gradient":
            return mlp_gradient_op(mlp, cfg)
        x = test_point(mlp.d)
        _, v = mlp.loss_gradient(x, dense=False)
        fn = lambda: largest(mlp.importance_a(x, v, op["step"]), op["k"])
        return measure(fn, cfg), list(sparse_of(v, exact(fn)))
    n = op.get("n", 1)
    key = (op["dataset"], n)
    if key not in problems:
        problems[key] = Logreg(A, b, cfg["l2"], n)
    prob = problems[key]
    d = prob.d
    if kind == "gradient":
        x = test_point(d)
        loss, g = prob.full_gradient(x)
        return measure(lambda: prob.full_gradient(x), cfg), list(g) + [loss]
    if kind in ("imp-a", "imp-b", "imp-c", "hosvd"):
        x = test_point(d)
        _, v = prob.full_gradient(x)
        eta, k = op["step"], op.get("k")
        if kind == "imp-a":
            fn = lambda: imp_a(prob, x, v, eta, k)
        elif kind == "imp-b":
            fn = lambda: imp_b(prob, x, v, eta, k, op["M"])
        elif kind == "imp-c":
            fn = lambda: imp_c(prob, x, v, eta, k, op["M"])
        else:
            V = v[None, :]
            fn = lambda: hosvd_batch(V, op["dims"], op["r"])
        out = exact(fn)
        check = out[0] if kind == "hosvd" else sparse_of(v, out)
        return measure(fn, cfg), list(check)
    if kind in METHODS:
        init, step = METHODS[kind]
        # check: the iterate after a few steps from x0 = 0
        def check_run():
            s = init(prob, np.zeros(d), op)
            for _ in range(op.get("check_steps", 3)):
                step(prob, s, op)
            return s["x"]

        check = list(exact(check_run))
        s = init(prob, np.zeros(d), op)
        return measure(lambda: step(prob, s, op), cfg), check
    raise ValueError(f"unknown op {kind}")


def main():
    with open(sys.argv[1]) as fh:
        cfg = json.load(fh)
    data = {}
    for ds in cfg["datasets"]:
        data[ds["name"]] = parse_libsvm(ds["path"])
    results, errors, problems = {}, {}, {}
    for op in cfg["ops"]:
        try:
            result = run_op(op, data, cfg, problems)
            (samples, inner), check = result[0], result[1]
            entry = {"samples_us": samples, "inner": inner}
            if check is not None:
                entry["check"] = [float(c) for c in check]
            if len(result) > 2:
                entry["note"] = result[2]
            results[op["id"]] = entry
        except Exception as exc:  # one failing op must not stop the others
            errors[op["id"]] = f"{type(exc).__name__}: {exc}"
    json.dump({"numpy": np.__version__, "scipy": scipy.__version__, "results": results, "errors": errors}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
