/*
 * Baseline for `dcomp perf`: one full logistic-regression gradient with L2 and the loss, float64,
 * single thread, on exactly the CSR arrays dcomp uses (written by perf-cases.ts into a binary file).
 * dcomp compiles this file with several flag sets (-O2, -O3, -O3 -march=native) and runs every
 * variant below, so that its gradient is compared with the strongest C loop, not with its own order:
 *
 *  ref      the reference loop (dcomp's JS referenceGradient): out = lambda*x; per row m = a.x,
 *           z = -b*m, one exp for both softplus(z) and sigma(z), out += (-b*sigma/N) * a (a scatter).
 *  csc      two passes over a CSC copy made once at start-up (not timed): (1) per row the dot a.x
 *           with four partial sums, then sigma and softplus; (2) out_j = lambda*x_j + sum over the
 *           column's rows of coef_r * a_rj, a gather with four partial sums (the sum stays in a
 *           register; no scatter, no store-to-load chains).
 *  pattern  csc without the value loads: every stored value is 1 (binary features), so a.x is a sum
 *           of x entries and the column sums are sums of coef entries. Refused (exit 3) otherwise.
 *
 * The partial sums change the summation order (results agree with dcomp's to ~1e-16, which perf
 * checks); no -ffast-math, so exp/log1p are glibc's correctly-behaved scalar functions.
 *
 * Usage: grad_csr VARIANT INPUT.bin OUTPUT.bin REPS MIN_TIME_MS WARMUP_MS TARGET_SAMPLE_MS
 * INPUT: int64 rows, cols, nnz; int32 rowPtr[rows+1]; int32 colIdx[nnz]; double values[nnz];
 *        double b[rows]; double x[cols]; double lambda.
 * OUTPUT: double grad[cols]; double loss.
 * stdout: JSON {"inner": I, "samples_us": [...]} (time per call of each sample, microseconds).
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int64_t rows, cols, nnz;
  const int32_t *rowPtr, *colIdx;
  const double *values, *b, *x;
  double lambda;
  /* CSC copy (csc, pattern) and per-row scratch */
  int32_t *colPtr, *rowIdx;
  double *cscValues, *coef;
} Problem;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void read_exact(FILE *f, void *dst, size_t size, size_t count) {
  if (count > 0 && fread(dst, size, count, f) != count) {
    fprintf(stderr, "grad_csr: short read\n");
    exit(1);
  }
}

static double gradient_ref(const Problem *p, double *out) {
  const int64_t rows = p->rows, cols = p->cols;
  const int32_t *rowPtr = p->rowPtr, *colIdx = p->colIdx;
  const double *values = p->values, *b = p->b, *x = p->x;
  const double lambda = p->lambda;
  double reg = 0.0;
  for (int64_t j = 0; j < cols; j++) {
    out[j] = lambda * x[j];
    reg += x[j] * x[j];
  }
  const double invRows = 1.0 / (double)rows;
  double sum = 0.0;
  for (int64_t r = 0; r < rows; r++) {
    const int32_t start = rowPtr[r], end = rowPtr[r + 1];
    double dot = 0.0;
    for (int32_t k = start; k < end; k++) dot += values[k] * x[colIdx[k]];
    const double br = b[r];
    const double z = -br * dot;
    double sig;
    if (z > 0) {
      const double e = exp(-z);
      sum += z + log1p(e);
      sig = 1.0 / (1.0 + e);
    } else {
      const double e = exp(z);
      sum += log1p(e);
      sig = e / (1.0 + e);
    }
    const double c = -br * sig * invRows;
    if (c != 0.0)
      for (int32_t k = start; k < end; k++) out[colIdx[k]] += c * values[k];
  }
  return sum * invRows + 0.5 * lambda * reg;
}

/* softplus(z) added to *sum, sigma(z) returned: one exp, as in the reference loop */
static inline double sigma_softplus(double z, double *sum) {
  if (z > 0) {
    const double e = exp(-z);
    *sum += z + log1p(e);
    return 1.0 / (1.0 + e);
  }
  const double e = exp(z);
  *sum += log1p(e);
  return e / (1.0 + e);
}

/* The two-pass gradient; PATTERN is a compile-time constant at both call sites. */
static inline double gradient_two_pass(const Problem *p, double *out, const int PATTERN) {
  const int64_t rows = p->rows, cols = p->cols;
  const int32_t *restrict rowPtr = p->rowPtr, *restrict colIdx = p->colIdx;
  const int32_t *restrict colPtr = p->colPtr, *restrict rowIdx = p->rowIdx;
  const double *restrict values = p->values, *restrict b = p->b, *restrict x = p->x;
  const double *restrict cscValues = p->cscValues;
  double *restrict coef = p->coef;
  const double lambda = p->lambda;
  const double invRows = 1.0 / (double)rows;
  double sum = 0.0;
  for (int64_t r = 0; r < rows; r++) {
    const int32_t end = rowPtr[r + 1];
    int32_t k = rowPtr[r];
    double d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0;
    if (PATTERN) {
      for (; k + 4 <= end; k += 4) {
        d0 += x[colIdx[k]];
        d1 += x[colIdx[k + 1]];
        d2 += x[colIdx[k + 2]];
        d3 += x[colIdx[k + 3]];
      }
      for (; k < end; k++) d0 += x[colIdx[k]];
    } else {
      for (; k + 4 <= end; k += 4) {
        d0 += values[k] * x[colIdx[k]];
        d1 += values[k + 1] * x[colIdx[k + 1]];
        d2 += values[k + 2] * x[colIdx[k + 2]];
        d3 += values[k + 3] * x[colIdx[k + 3]];
      }
      for (; k < end; k++) d0 += values[k] * x[colIdx[k]];
    }
    const double br = b[r];
    const double sig = sigma_softplus(-br * ((d0 + d1) + (d2 + d3)), &sum);
    coef[r] = -br * sig * invRows;
  }
  double reg = 0.0;
  for (int64_t j = 0; j < cols; j++) {
    const int32_t end = colPtr[j + 1];
    int32_t k = colPtr[j];
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    if (PATTERN) {
      for (; k + 4 <= end; k += 4) {
        s0 += coef[rowIdx[k]];
        s1 += coef[rowIdx[k + 1]];
        s2 += coef[rowIdx[k + 2]];
        s3 += coef[rowIdx[k + 3]];
      }
      for (; k < end; k++) s0 += coef[rowIdx[k]];
    } else {
      for (; k + 4 <= end; k += 4) {
        s0 += coef[rowIdx[k]] * cscValues[k];
        s1 += coef[rowIdx[k + 1]] * cscValues[k + 1];
        s2 += coef[rowIdx[k + 2]] * cscValues[k + 2];
        s3 += coef[rowIdx[k + 3]] * cscValues[k + 3];
      }
      for (; k < end; k++) s0 += coef[rowIdx[k]] * cscValues[k];
    }
    const double xj = x[j];
    out[j] = lambda * xj + ((s0 + s1) + (s2 + s3));
    reg += xj * xj;
  }
  return sum * invRows + 0.5 * lambda * reg;
}

static double gradient_csc(const Problem *p, double *out) { return gradient_two_pass(p, out, 0); }
static double gradient_pattern(const Problem *p, double *out) { return gradient_two_pass(p, out, 1); }

/* The CSC copy: a counting sort by column, rows ascending within each column. */
static void build_csc(Problem *p) {
  const int64_t rows = p->rows, cols = p->cols, nnz = p->nnz;
  p->colPtr = calloc(cols + 1, sizeof(int32_t));
  p->rowIdx = malloc(sizeof(int32_t) * (nnz > 0 ? nnz : 1));
  p->cscValues = malloc(sizeof(double) * (nnz > 0 ? nnz : 1));
  p->coef = malloc(sizeof(double) * (rows > 0 ? rows : 1));
  int32_t *next = malloc(sizeof(int32_t) * (cols > 0 ? cols : 1));
  for (int64_t k = 0; k < nnz; k++) p->colPtr[p->colIdx[k] + 1]++;
  for (int64_t j = 0; j < cols; j++) p->colPtr[j + 1] += p->colPtr[j];
  memcpy(next, p->colPtr, sizeof(int32_t) * cols);
  for (int64_t r = 0; r < rows; r++) {
    for (int32_t k = p->rowPtr[r]; k < p->rowPtr[r + 1]; k++) {
      const int32_t at = next[p->colIdx[k]]++;
      p->rowIdx[at] = (int32_t)r;
      p->cscValues[at] = p->values[k];
    }
  }
  free(next);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: grad_csr ref|csc|pattern INPUT OUTPUT REPS MIN_TIME_MS WARMUP_MS TARGET_SAMPLE_MS\n");
    return 2;
  }
  double (*gradient)(const Problem *, double *);
  if (strcmp(argv[1], "ref") == 0) gradient = gradient_ref;
  else if (strcmp(argv[1], "csc") == 0) gradient = gradient_csc;
  else if (strcmp(argv[1], "pattern") == 0) gradient = gradient_pattern;
  else {
    fprintf(stderr, "grad_csr: unknown variant %s (expected ref, csc or pattern)\n", argv[1]);
    return 2;
  }
  FILE *in = fopen(argv[2], "rb");
  if (!in) {
    perror("grad_csr: input");
    return 1;
  }
  int64_t head[3];
  read_exact(in, head, sizeof(int64_t), 3);
  Problem p = {0};
  p.rows = head[0];
  p.cols = head[1];
  p.nnz = head[2];
  int32_t *rowPtr = malloc(sizeof(int32_t) * (p.rows + 1));
  int32_t *colIdx = malloc(sizeof(int32_t) * (p.nnz > 0 ? p.nnz : 1));
  double *values = malloc(sizeof(double) * (p.nnz > 0 ? p.nnz : 1));
  double *b = malloc(sizeof(double) * p.rows);
  double *x = malloc(sizeof(double) * p.cols);
  double *out = malloc(sizeof(double) * p.cols);
  read_exact(in, rowPtr, sizeof(int32_t), p.rows + 1);
  read_exact(in, colIdx, sizeof(int32_t), p.nnz);
  read_exact(in, values, sizeof(double), p.nnz);
  read_exact(in, b, sizeof(double), p.rows);
  read_exact(in, x, sizeof(double), p.cols);
  read_exact(in, &p.lambda, sizeof(double), 1);
  fclose(in);
  p.rowPtr = rowPtr;
  p.colIdx = colIdx;
  p.values = values;
  p.b = b;
  p.x = x;
  if (gradient == gradient_pattern) {
    for (int64_t k = 0; k < p.nnz; k++) {
      if (values[k] != 1.0) {
        fprintf(stderr, "grad_csr: the pattern variant needs every stored value to be 1\n");
        return 3;
      }
    }
  }
  if (gradient != gradient_ref) build_csc(&p);

  const long reps = atol(argv[4]);
  const double minTime = atof(argv[5]), warmup = atof(argv[6]), target = atof(argv[7]);
  /* volatile sink: the optimiser may not drop calls whose results are unused */
  volatile double sink = 0.0;

  long calls = 0;
  double w0 = now_ms();
  while (calls < 2 || now_ms() - w0 < warmup) {
    sink += gradient(&p, out);
    calls++;
  }
  const double perCall = (now_ms() - w0) / calls;
  long inner = perCall > 0 ? lround(target / perCall) : 1;
  if (inner < 1) inner = 1;

  size_t capacity = 1024, count = 0;
  double *samples = malloc(sizeof(double) * capacity);
  const double start = now_ms();
  for (;;) {
    const double t0 = now_ms();
    for (long i = 0; i < inner; i++) sink += gradient(&p, out);
    if (count == capacity) samples = realloc(samples, sizeof(double) * (capacity *= 2));
    samples[count++] = (now_ms() - t0) * 1e3 / inner;
    const double spent = now_ms() - start;
    if (((long)count >= reps && spent >= minTime) || spent >= 20000) break;
  }

  const double loss = gradient(&p, out);
  FILE *res = fopen(argv[3], "wb");
  if (!res) {
    perror("grad_csr: output");
    return 1;
  }
  if (fwrite(out, sizeof(double), p.cols, res) != (size_t)p.cols || fwrite(&loss, sizeof(double), 1, res) != 1 || fclose(res) != 0) {
    perror("grad_csr: output");
    return 1;
  }

  printf("{\"inner\": %ld, \"samples_us\": [", inner);
  for (size_t i = 0; i < count; i++) printf("%s%.17g", i ? ", " : "", samples[i]);
  printf("]}\n");
  (void)sink;
  return 0;
}
