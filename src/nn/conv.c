/* src/nn/conv.c — conv2d by im2col + GEMM, max / average pooling.
 *
 * Method (Chellapilla, Puri & Simard 2006, "High performance convolutional
 * neural networks for document processing": unfold the input patches into a
 * matrix so that the convolution is one matrix product; Caffe's im2col).
 * For one sample n, with P = OH·OW output pixels and CKK = C·kh·kw taps,
 *     col_n (CKK × P),  col_n[(c,i,j), (p,q)] = x_n[c, p·s+i·d−pad, q·s+j·d−pad]
 *     forward:   y_n  (K × P)   = W (K × CKK) · col_n + b 1ᵀ
 *     backward:  dW   (K × CKK) = Σ_n dy_n (K × P) · col_nᵀ
 *                dcol_n (CKK × P) = Wᵀ · dy_n,   dx_n = col2im(dcol_n)
 *                db[k] = Σ_n Σ_p dy_n[k, p]
 * (PyTorch's conv2d semantics: torch.nn.functional.conv2d, a
 * cross-correlation; dilation d spaces the taps d apart: im2col and col2im
 * only start each tap's rows at (i·d, j·d) instead of (i, j), so d = 1 runs
 * the same loops as before dilation existed.)
 *
 * The batch is split into G = min(N, 16) groups of consecutive samples,
 * processed in parallel (OpenMP, static schedule over the groups); each
 * group owns one sample's columns and a partial dW in the workspace, and
 * handles its samples in order, one sample at a time: im2col, then one
 * GEMM per product above. The GEMMs are small (LeNet's: 6×784×25,
 * 16×100×150), below OpenBLAS's threading threshold, so each runs on the
 * calling thread; the columns of one sample stay in L2. dW is the sum of
 * the G partials, in double, in group order; db sums dy in double. So every
 * output is computed by the same operations in the same order whatever the
 * number of threads: bitwise identical results run to run and across
 * thread counts. Measured on LeNet's layers (bench/bench_conv.c) this beat
 * one whole-batch im2col matrix with batch-sized GEMMs by 2–5× (OpenBLAS's
 * threads split a 6×25×78 400 product badly, and its result then depended
 * on the thread count). Larger layers whose per-sample GEMMs pass
 * OpenBLAS's threshold (M·N·K > 2^18) would make OpenBLAS thread inside
 * the OpenMP team: run those with OPENBLAS_NUM_THREADS=1.
 *
 * Speed depends mostly on OpenBLAS's kernels: Debian 12's 0.3.21 takes an
 * AVX-512 AMD Zen 4 for "Haswell"; with OPENBLAS_CORETYPE=SkylakeX its
 * small-matrix AVX-512 kernels run these GEMMs 2–5× faster (LeNet conv1
 * forward 6×784×25: 3.5 µs → 1.2 µs per sample).
 */
#include "nn/conv.h"
#include "nn/conv_dnnl.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif


static size_t conv_groups(const nco_conv_shape *s) {
  return s->N < NCO_CONV_GROUPS ? s->N : NCO_CONV_GROUPS;
}

/* 1 if a call on shape s is worth an OpenMP team: at least 2^18
 * multiply-adds (≈ 5 µs on one core); below that the fork/join costs more
 * than it saves, and on a busy machine a team member that is not scheduled
 * stalls the call for a whole time slice. */
static int conv_parallel(const nco_conv_shape *s) {
  return (double)s->N * (double)s->K * (double)(s->C * s->kh * s->kw) *
             (double)(s->OH * s->OW) >= 262144.0;
}

/* Elements of a zero-padded sample (C, H + 2·pad, W + 2·pad); 0 without padding. */
static size_t conv_plane(const nco_conv_shape *s) {
  return s->pad ? s->C * (s->H + 2 * s->pad) * (s->W + 2 * s->pad) : 0;
}

/* Scratch of one group: one sample's columns (CKK × P), its padded plane,
 * and a partial dWᵀ (CKK × K). */
static size_t conv_group_size(const nco_conv_shape *s) {
  const size_t CKK = s->C * s->kh * s->kw;
  return CKK * s->OH * s->OW + conv_plane(s) + CKK * s->K;
}

int nco_conv_shape_init_dil(nco_conv_shape *s, size_t N, size_t C, size_t H, size_t W, size_t K,
                            size_t kh, size_t kw, size_t stride, size_t pad, size_t dil) {
  if (!s) return nco_error(NCO_ERR_INVALID, "conv2d: shape pointer is NULL");
  memset(s, 0, sizeof *s);
  if (N == 0 || C == 0 || H == 0 || W == 0 || K == 0 || kh == 0 || kw == 0 || stride == 0 || dil == 0)
    return nco_error(NCO_ERR_SHAPE,
                     "conv2d: sizes must be >= 1, got batch %zu, channels %zu, input %zux%zu, "
                     "filters %zu, kernel %zux%zu, stride %zu, dilation %zu",
                     N, C, H, W, K, kh, kw, stride, dil);
  size_t Hp, Wp, t, ekh, ekw; /* padded input, the dilated kernel's extent d·(k − 1) + 1 */
  if (nco_mul_size(pad, 2, &t) || nco_add_size(H, t, &Hp) || nco_add_size(W, t, &Wp))
    return nco_error(NCO_ERR_OVERFLOW, "conv2d: padding %zu overflows the input size %zux%zu", pad,
                     H, W);
  if (nco_mul_size(dil, kh - 1, &ekh) || nco_mul_size(dil, kw - 1, &ekw))
    return nco_error(NCO_ERR_OVERFLOW, "conv2d: dilation %zu overflows the kernel %zux%zu", dil, kh, kw);
  if (ekh >= Hp || ekw >= Wp) {
    char dl[96] = "";
    if (dil != 1) snprintf(dl, sizeof dl, " with dilation %zu (spanning %zux%zu)", dil, ekh + 1, ekw + 1);
    return nco_error(NCO_ERR_SHAPE,
                     "conv2d: kernel %zux%zu%s is larger than the padded input %zux%zu (input "
                     "%zux%zu, padding %zu)",
                     kh, kw, dl, Hp, Wp, H, W, pad);
  }
  const size_t OH = (Hp - ekh - 1) / stride + 1, OW = (Wp - ekw - 1) / stride + 1;
  /* Every buffer's element and byte count (double: the larger type), the
   * buffer sizes as ptrdiff_t, and the GEMM dimensions (K, P, CKK) as int;
   * the workspace is at most N·(CKK·P + C·Hp·Wp + K·CKK) elements. */
  size_t x_el, w_el, y_el, P, CKK, HW, per, ws_el, bytes, plane;
  if (nco_mul_size(H, W, &HW) || nco_mul_size(HW, C, &t) || nco_mul_size(t, N, &x_el) ||
      nco_mul_size(kh, kw, &t) || nco_mul_size(t, C, &CKK) || nco_mul_size(CKK, K, &w_el) ||
      nco_mul_size(OH, OW, &P) || nco_mul_size(P, K, &t) || nco_mul_size(t, N, &y_el) ||
      nco_mul_size(Hp, Wp, &t) || nco_mul_size(t, C, &plane) || nco_mul_size(CKK, P, &t) ||
      nco_add_size(t, w_el, &per) || nco_add_size(per, plane, &per) || nco_mul_size(per, N, &ws_el) ||
      nco_mul_size(x_el, sizeof(double), &bytes) || nco_mul_size(w_el, sizeof(double), &bytes) ||
      nco_mul_size(y_el, sizeof(double), &bytes) || nco_mul_size(ws_el, sizeof(double), &bytes) ||
      x_el > (size_t)PTRDIFF_MAX / sizeof(double) || y_el > (size_t)PTRDIFF_MAX / sizeof(double) ||
      ws_el > (size_t)PTRDIFF_MAX / sizeof(double) || K > (size_t)INT_MAX || P > (size_t)INT_MAX ||
      CKK > (size_t)INT_MAX)
    return nco_error(NCO_ERR_OVERFLOW,
                     "conv2d: sizes overflow (batch %zu, channels %zu, input %zux%zu, filters %zu, "
                     "kernel %zux%zu, output %zux%zu)",
                     N, C, H, W, K, kh, kw, OH, OW);
  *s = (nco_conv_shape){.N = N, .C = C, .H = H, .W = W, .K = K, .kh = kh, .kw = kw,
                        .stride = stride, .pad = pad, .dil = dil, .OH = OH, .OW = OW};
  return NCO_OK;
}

int nco_conv_shape_init(nco_conv_shape *s, size_t N, size_t C, size_t H, size_t W, size_t K,
                        size_t kh, size_t kw, size_t stride, size_t pad) {
  return nco_conv_shape_init_dil(s, N, C, H, W, K, kh, kw, stride, pad, 1);
}

size_t nco_conv_workspace(const nco_conv_shape *s) {
  /* ≤ N·group size, checked by nco_conv_shape_init; the float32 oneDNN
   * path's bytes as floats (conv_dnnl.h), when it serves the shape */
  const size_t im2col = conv_groups(s) * conv_group_size(s);
  const size_t dnnl = (nco_conv_dnnl_workspace_bytes(s) + sizeof(float) - 1) / sizeof(float);
  return im2col > dnnl ? im2col : dnnl;
}

int nco_pool_shape_init(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                        size_t *OH, size_t *OW) {
  if (N == 0 || C == 0 || H == 0 || W == 0 || k == 0 || stride == 0)
    return nco_error(NCO_ERR_SHAPE,
                     "pool: sizes must be >= 1, got batch %zu, channels %zu, input %zux%zu, "
                     "window %zu, stride %zu",
                     N, C, H, W, k, stride);
  if (k > H || k > W)
    return nco_error(NCO_ERR_SHAPE, "pool: window %zux%zu is larger than the input %zux%zu", k, k,
                     H, W);
  size_t HW, t, el;
  if (nco_mul_size(H, W, &HW) || HW > (size_t)INT32_MAX || nco_mul_size(HW, C, &t) ||
      nco_mul_size(t, N, &el) || el > (size_t)PTRDIFF_MAX / sizeof(double))
    return nco_error(NCO_ERR_OVERFLOW,
                     "pool: sizes overflow (batch %zu, channels %zu, input %zux%zu; a plane "
                     "must have < 2^31 entries)",
                     N, C, H, W);
  if (OH) *OH = (H - k) / stride + 1;
  if (OW) *OW = (W - k) / stride + 1;
  return NCO_OK;
}

/* NCO_CONV_SSE_F32: the float instance uses the SSE2 pooling paths */
#define REAL float
#define SFX f32
#define GEMM cblas_sgemm
#define CONV_FAST_FWD(s, x, w, b, y, ws) nco_conv_dnnl_forward(s, x, w, b, y, ws)
#define CONV_FAST_BWD(s, x, w, dy, dx, dw, ws) nco_conv_dnnl_backward(s, x, w, dy, dx, dw, ws)
#if defined(__SSE2__)
#define NCO_CONV_SSE_F32 1
#else
#define NCO_CONV_SSE_F32 0
#endif
#include "nn/conv_kernels.inc"
#undef REAL
#undef SFX
#undef GEMM
#undef NCO_CONV_SSE_F32
#undef CONV_FAST_FWD
#undef CONV_FAST_BWD

/* float64: im2col only (oneDNN 2.6 has no f64 convolutions on the CPU) */
#define REAL double
#define SFX f64
#define GEMM cblas_dgemm
#define CONV_FAST_FWD(s, x, w, b, y, ws) ((void)(s), 0)
#define CONV_FAST_BWD(s, x, w, dy, dx, dw, ws) ((void)(s), 0)
#define NCO_CONV_SSE_F32 0
#include "nn/conv_kernels.inc"
#undef REAL
#undef SFX
#undef GEMM
#undef NCO_CONV_SSE_F32
