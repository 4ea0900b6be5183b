# The golden runs (sourced by tests/test_golden.sh and scripts/make-golden):
# one `golden NAME ARGS...` per run (`golden_resume NAME ARGS` resumes it), ARGS as for `ncopt`. They cover every
# experiment (shortened with --set: the bits of the code paths, not the
# papers' lengths), every optimiser, zoo problem, wrapper and probe,
# resume, a sweep, and both networks with dropout. Paths are relative to
# the working folder, where `spec NAME` writes the small specs below.
#
# A change of any bit of these outputs is a change of ncopt's numbers: the
# architecture step must leave every one of them byte-identical.

# spec NAME: writes NAME.ini (the specs the cases share)
spec() {
  case $1 in
    glm) printf '[data]\nn = 48\nd = 6\nnoise = 0.1\n[problem]\ntype = glm\nactivation = sigmoid\n[optimizer]\nlr = 0.05\n[run]\niterations = 60\nseed = 3\n' ;;
    glm_mb) printf '[data]\nn = 48\nd = 6\nbinary = true\n[problem]\ntype = glm\nactivation = sigmoid\n[optimizer]\nlr = 0.05\nbatch = 8\n[run]\nepochs = 6\nseed = 4\n' ;;
    zoo) printf '[data]\nn = 24\nd = 5\nrank = 2\nk = 3\nn1 = 10\nn2 = 8\n[problem]\nrank = 2\nk = 4\n[optimizer]\nlr = 0.005\n[run]\niterations = 40\nseed = 5\n' ;;
    probes) printf '[data]\nn = 30\nd = 6\n[problem]\ntype = linear_ls\n[regularizer]\ntype = invex\nlambda = 0.5\n[optimizer]\nlr = 0.02\n[run]\niterations = 40\nlog_every = 5\n[lanczos]\nmax_iter = 20\n[probes]\ngrad_norm = true\ndist_init = true\npath_length = true\nloss_unreg = true\npl_ratio = true\nhess_max = true\nhess_min = true\njac_smax = true\njac_smin = 10\nmisfit = true\ndistance = true\nregularity = true\n' ;;
    xstar) printf '[data]\nn = 20\nd = 4\n[problem]\ntype = linear_ls\n[optimizer]\nlr = 0.01\n[run]\niterations = 30\nx_star = xstar.npy\n[probes]\nquasi_convexity = true\nrsi = 5\n' ;;
    mlp) printf '[data]\nsource = fashion-mnist\nsubset = 256\ntest_subset = 64\n[problem]\ntype = mlp\nwidths = 32, 16\ndropout = 0.2\n[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\nbatch = 32\n[run]\nepochs = 2\nseed = 6\neval_every = 8\n[probes]\ndistance = true\n' ;;
    lenet) printf '[data]\nsource = fashion-mnist\nsubset = 64\ntest_subset = 32\n[problem]\ntype = lenet\nloss = least_squares\ndropout = 0.1\n[optimizer]\ntype = adam\nlr = 0.001\nbatch = 16\n[run]\niterations = 10\nseed = 7\n[probes]\nmisfit = true\n' ;;
  esac >"$1.ini"
}

cases() {
  spec glm; spec glm_mb; spec zoo; spec probes; spec xstar; spec mlp; spec lenet
  "$T" npy-write xstar.npy f4 4 0.5 -0.25 1 0.125 >/dev/null
  local e=$SRC/experiments
  # the experiments, shortened
  golden exp_invex_fig1 reproduce invex_fig1 --set run.iterations=400
  golden exp_ma_pca reproduce ma_pca --set run.iterations=60
  golden exp_ma_tensor reproduce ma_tensor --set run.iterations=60
  golden exp_oymak_glm reproduce oymak_glm --set run.iterations=100
  golden exp_invex_mlp reproduce invex_mlp --set run.iterations=30 --set data.subset=40
  golden exp_oymak_lenet reproduce oymak_lenet --set run.iterations=12 --set data.subset=200 --set data.test_subset=30 --set run.eval_every=6
  golden exp_chen_activations reproduce chen_activations --set run.epochs=1 --set data.subset=256 --set data.test_subset=64 --set problem.widths=32,16
  # every optimiser (glm full batch; the minibatch methods also on minibatches)
  for m in sgd psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad lbfgs lm; do
    golden "opt_$m" train glm.ini --set optimizer.type=$m
  done
  golden opt_sgd_nesterov train glm.ini --set optimizer.momentum=0.9 --set optimizer.nesterov=true
  golden opt_rmsprop_centered train glm.ini --set optimizer.type=rmsprop --set optimizer.centered=true --set optimizer.momentum=0.5
  golden opt_adam_mb train glm_mb.ini --set optimizer.type=adam
  golden opt_sgd_replacement train glm_mb.ini --set optimizer.sampling=replacement
  golden opt_sgd_cyclic_cosine train glm_mb.ini --set optimizer.sampling=cyclic --set schedule.type=cosine
  golden opt_rgd train zoo.ini --set problem.type=tensor --set optimizer.type=rgd --set optimizer.lr=0.05
  # every zoo problem
  for p in linear_ls glm lowrank pca matcomp matcomp_asym shallow; do
    golden "zoo_$p" train zoo.ini --set problem.type=$p
  done
  # the wrappers
  golden wrap_l2 train glm.ini --set regularizer.type=l2 --set regularizer.lambda=0.01
  golden wrap_invex train glm.ini --set regularizer.type=invex --set regularizer.lambda=0.3
  golden wrap_invex_lm train zoo.ini --set problem.type=lowrank --set regularizer.type=invex --set regularizer.lambda=0.3 --set optimizer.type=lm
  # every probe
  golden probes train probes.ini
  golden probes_xstar train xstar.ini
  # networks with dropout
  golden net_mlp train mlp.ini
  golden net_lenet train lenet.ini
  # a sweep, and a run extended by resume
  golden sweep train glm.ini --set run.iterations=20 --set 'sweep.optimizer.type=sgd, adam' --set 'sweep.optimizer.lr=0.01, 0.1'
  golden resumed train glm_mb.ini --set run.epochs=3
  golden_resume resumed --set run.epochs=6
}
