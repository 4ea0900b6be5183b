/* The README's C example, kept compiling: the invex lifting of the sigmoid
 * GLM of Crane & Roosta's Fig. 1, driven by plain gradient descent through
 * the optimiser interface. Prints the lifted loss f̂ and the plain f. */
#include <stdio.h>
#include <stdlib.h>

#include "ncopt/ncopt.h"

int main(void) {
  nco_array A = {0}, b = {0};
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_act sig = nco_act_make(NCO_ACT_SIGMOID);
  nco_problem *glm = NULL, *lifted = NULL;
  nco_optim *o = NULL;
  float *x = NULL;
  int st;
  if ((st = nco_glm_generate(64, 8, &sig, 0.0, 1, &rng, &A, &b)) || (st = nco_glm_create(&A, &b, &sig, &glm)) ||
      (st = nco_invex_wrap(glm, 0.1, 1, &lifted))) /* ½‖g(x) + λp‖² over (x, p) */
    goto done;
  glm = NULL; /* owned by the wrapper now */
  nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
  hp.lr = 0.1;
  if (!(x = calloc(lifted->dim, sizeof *x))) { /* the paper's start (x₀, p₀) = (0, 0) */
    st = NCO_ERR_NOMEM;
    goto done;
  }
  if ((st = nco_optim_create(nco_optim_sgd, lifted->dim, &hp, x, &o))) goto done;
  for (int t = 0; t < 1000 && st >= 0; t++) st = nco_optim_iterate(o, lifted, NULL, lifted->n, NULL, NULL);
  if (st < 0) goto done;
  double fhat, f;
  if ((st = nco_problem_eval(lifted, nco_optim_x(o), NULL, lifted->n, &fhat, NULL)) ||
      (st = nco_problem_loss_unreg(lifted, nco_optim_x(o), NULL, lifted->n, &f)))
    goto done;
  printf("after 1000 GD steps: lifted loss %.6g, non-regularised loss %.6g\n", fhat, f);
done:
  if (st < 0) fprintf(stderr, "quickstart: %s\n", nco_last_error());
  nco_optim_free(o);
  nco_problem_free(lifted);
  nco_problem_free(glm);
  free(x);
  nco_array_free(&A);
  nco_array_free(&b);
  return st < 0;
}
