/* src/nn/conv_dnnl.h — the float32 conv2d kernels through oneDNN (internal).
 *
 * When ncopt is built with oneDNN (Debian's libdnnl-dev; NCO_HAVE_DNNL), the
 * float32 kernels of src/nn/conv.h run their products through oneDNN's
 * direct convolutions (jit:avx512_core, jit:avx2 … as the CPU allows) in
 * its blocked layouts, with the data kept in ncopt's NCHW: per group of
 * samples, reorder NCHW → blocked, convolve, reorder back. The batch is
 * split into the same G = min(N, 16) fixed groups as the im2col path, each
 * group is one single-threaded oneDNN call (primitives made with one thread,
 * executed inside ncopt's own OpenMP loop over the groups), and dW is the sum
 * of the G partial dW in double in group order: the bits depend on G and the
 * CPU's oneDNN kernel, never on the thread count.
 *
 * Why: on this project's ResNet-8 shapes (bench/bench_conv_resnet.c) oneDNN's
 * direct kernels run forward + backward 1.9× faster than im2col + OpenBLAS
 * (small channel counts make im2col's GEMMs 16×144×784: memory-bound).
 * Shapes with fewer than 16 filters, 2–15 input channels or a 1×1 kernel
 * stay on im2col, where it is as fast or faster (dn_worth in conv_dnnl.c).
 *
 * The functions return 1 when they computed the result, 0 when the shape is
 * not served (oneDNN absent, disabled by NCO_CONV_BACKEND=im2col, a shape
 * left to im2col, or a primitive could not be made): the caller then runs im2col. The choice for
 * a shape is made once and kept for the process.
 */
#ifndef NCO_NN_CONV_DNNL_H
#define NCO_NN_CONV_DNNL_H

#include <stddef.h>

#include "nn/conv.h"

/* Bytes of workspace the oneDNN path needs for shape s (0: not served). */
size_t nco_conv_dnnl_workspace_bytes(const nco_conv_shape *s);

/* y ← conv2d(x, w) + b (b may be NULL); ws as for nco_conv2d_forward_f32,
 * at least nco_conv_dnnl_workspace_bytes(s) bytes. */
int nco_conv_dnnl_forward(const nco_conv_shape *s, const float *x, const float *w, const float *b,
                          float *y, void *ws);

/* dx and/or dw (either may be NULL; overwritten) from dy; db is the caller's. */
int nco_conv_dnnl_backward(const nco_conv_shape *s, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, void *ws);

/* The kernels of the last float32 call: "onednn <version> <implementation>"
 * or "im2col"; "" before any call (summary.json's versions.conv). */
const char *nco_conv_backend_name(void);

#endif
