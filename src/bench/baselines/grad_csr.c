/*
 * Baseline for `dcomp perf`: one full logistic-regression gradient with L2, float64, single thread,
 * on exactly the CSR arrays dcomp uses (written by perf-cases.ts into a binary file), with the same
 * arithmetic: out = lambda*x; per row m = a.x, z = -b*m, one exp for both softplus(z) and sigma(z),
 * out += (-b*sigma/N) * a. Returns f(x) too, as dcomp's gradient() does.
 *
 * Usage: grad_csr INPUT.bin OUTPUT.bin REPS MIN_TIME_MS WARMUP_MS TARGET_SAMPLE_MS
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
#include <time.h>

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

static double gradient(int64_t rows, int64_t cols, const int32_t *rowPtr, const int32_t *colIdx, const double *values,
                       const double *b, const double *x, double lambda, double *out) {
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

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: grad_csr INPUT OUTPUT REPS MIN_TIME_MS WARMUP_MS TARGET_SAMPLE_MS\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) {
    perror("grad_csr: input");
    return 1;
  }
  int64_t head[3];
  read_exact(in, head, sizeof(int64_t), 3);
  const int64_t rows = head[0], cols = head[1], nnz = head[2];
  int32_t *rowPtr = malloc(sizeof(int32_t) * (rows + 1));
  int32_t *colIdx = malloc(sizeof(int32_t) * (nnz > 0 ? nnz : 1));
  double *values = malloc(sizeof(double) * (nnz > 0 ? nnz : 1));
  double *b = malloc(sizeof(double) * rows);
  double *x = malloc(sizeof(double) * cols);
  double *out = malloc(sizeof(double) * cols);
  double lambda;
  read_exact(in, rowPtr, sizeof(int32_t), rows + 1);
  read_exact(in, colIdx, sizeof(int32_t), nnz);
  read_exact(in, values, sizeof(double), nnz);
  read_exact(in, b, sizeof(double), rows);
  read_exact(in, x, sizeof(double), cols);
  read_exact(in, &lambda, sizeof(double), 1);
  fclose(in);

  const long reps = atol(argv[3]);
  const double minTime = atof(argv[4]), warmup = atof(argv[5]), target = atof(argv[6]);
  /* volatile sink: the optimiser may not drop calls whose results are unused */
  volatile double sink = 0.0;

  long calls = 0;
  double w0 = now_ms();
  while (calls < 2 || now_ms() - w0 < warmup) {
    sink += gradient(rows, cols, rowPtr, colIdx, values, b, x, lambda, out);
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
    for (long i = 0; i < inner; i++) sink += gradient(rows, cols, rowPtr, colIdx, values, b, x, lambda, out);
    if (count == capacity) samples = realloc(samples, sizeof(double) * (capacity *= 2));
    samples[count++] = (now_ms() - t0) * 1e3 / inner;
    const double spent = now_ms() - start;
    if (((long)count >= reps && spent >= minTime) || spent >= 20000) break;
  }

  const double loss = gradient(rows, cols, rowPtr, colIdx, values, b, x, lambda, out);
  FILE *res = fopen(argv[2], "wb");
  if (!res) {
    perror("grad_csr: output");
    return 1;
  }
  fwrite(out, sizeof(double), cols, res);
  fwrite(&loss, sizeof(double), 1, res);
  fclose(res);

  printf("{\"inner\": %ld, \"samples_us\": [", inner);
  for (size_t i = 0; i < count; i++) printf("%s%.17g", i ? ", " : "", samples[i]);
  printf("]}\n");
  (void)sink;
  return 0;
}
