# The deep models as problem types (issue #12; builders in src/nn/builders.c,
# their PyTorch equivalence in tests/test_nn_builders.c): resnet, vgg and
# unet through `ncopt train` — the spec keys reach the builders (parameter
# counts, params.json names), a ResNet trains and resumes bit for bit, a
# U-Net reconstructs Fashion-MNIST (the MSE falls ≥ 10× in 2 epochs, the
# issue's claim), the loss keys and data.target fit, errors are located.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
if [ ! -r /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz ]; then
  echo "test_deep: skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
  exit 0
fi
cat >rs.ini <<'INI'
[data]
source = fashion-mnist
subset = 512
[problem]
type = resnet
channels = 4, 8
blocks = 1
[optimizer]
type = sgd
lr = 0.05
momentum = 0.9
batch = 64
[run]
epochs = 2
checkpoint_every = 8
INI
run rs train rs.ini --out rs --quiet
expect_rc 0 "$RC" "a ResNet on Fashion-MNIST"
check "params.json: the builder's node names" grep -q '"s1b1c1.weight"' rs/params.json
# stem 3·3·4 + bn 8; stage 1: 2 convs 4·4·9 + 2 bn; stage 2: 4·8·9 + 8·8·9 + 2 bn + projection 4·8 + bn; fc 8·10 + 10
expect_eq "$((36 + 8 + 2 * (144 + 8) + 288 + 576 + 32 + 3 * 16 + 90))" "$(json rs/summary.json parameters)" "ResNet parameters"
a0=$(csv_col rs/trace.csv loss | sed -n 2p) a1=$(csv_col rs/trace.csv loss | tail -1)
check "the ResNet's loss falls ($a0 → $a1)" holds "$a1 < $a0"
run rs1 train rs.ini --out rs1 --quiet --set run.epochs=1
run rs1r resume rs1 --quiet --set run.epochs=2
check "ResNet: resumed = uninterrupted (params.npy)" cmp -s rs/params.npy rs1/params.npy
run rn train rs.ini --out rn --quiet --set problem.skips=none --set run.epochs=0 --set run.iterations=1
expect_eq "$((36 + 8 + 2 * (144 + 8) + 288 + 576 + 2 * 16 + 90))" "$(json rn/summary.json parameters)" "skips = none: no projection"
# VGG: batch norm all | first | none
for bn in all first none; do
  run vg_$bn train rs.ini --out vg_$bn --quiet --set problem.type=vgg --set problem.convs=2,1 --set problem.bn=$bn \
    --set run.epochs=0 --set run.iterations=2
  expect_rc 0 "$RC" "vgg bn = $bn"
done
pa=$(json vg_all/summary.json parameters) pf=$(json vg_first/summary.json parameters) pn=$(json vg_none/summary.json parameters)
check "VGG parameters: bn all ($pa) > first ($pf) > none ($pn)" holds "$pa > $pf && $pf > $pn"
# U-Net reconstruction: the image itself is the target, MSE as torch's
cat >un.ini <<'INI'
[data]
source = fashion-mnist
subset = 1000
target = input
[problem]
type = unet
channels = 4, 8, 16
depth = 2
loss = mse
[optimizer]
type = adam
lr = 0.001
batch = 32
[run]
epochs = 2
INI
run un train un.ini --out un --quiet
expect_rc 0 "$RC" "a U-Net reconstructing Fashion-MNIST"
u0=$(csv_col un/trace.csv loss | sed -n 2p) u1=$(csv_col un/trace.csv loss | tail -1)
check "U-Net: the reconstruction MSE falls ≥ 10× in 2 epochs ($u0 → $u1)" holds "$u1 <= 0.1 * $u0"
expect_eq "mean" "$(sed -n 's/^reduction = //p' un/spec.ini)" "mse: the mean over the batch by default"
# errors at their line
err() { # NAME SED NEEDLE
  sed "$2" "$4" >"$1.ini"
  run "$1" train "$1.ini" --out "$1" --quiet
  expect_rc 2 "$RC" "$1: a spec error"
  check "$1: $3" grep -qF -- "$3" "$1.err"
}
err notarget '/^target = input$/d' "data.target: unet outputs an image: set data.target = input (reconstruction) or noisy_input" un.ini
err celoss 's/^loss = mse$/loss = cross_entropy/' "problem.loss: unet outputs an image" un.ini
err skips 's/^depth = 2$/depth = 2\nskips = last 3/' "problem.skips: 'last 3': expected all, none or last K (K ≤ depth)" un.ini
err levels 's/^channels = 4, 8, 16$/channels = 4, 8/' "problem.channels: needs depth + 1 widths" un.ini
err rskips 's/^blocks = 1$/blocks = 1\nskips = some/' "problem.skips: 'some': expected all, first, first_two or none" rs.ini
err rblocks 's/^blocks = 1$/blocks = 1, 2, 3/' "problem.blocks: one number, or one per stage" rs.ini
err rbn 's/^blocks = 1$/blocks = 1\nbn = first/' "problem.bn: 'first': expected all or none (vgg also: first)" rs.ini
check "errors name the file and line" grep -q '^rskips.ini:[0-9]*: problem.skips' rskips.err
# ncopt show: the built network after the spec, as comment lines (the totals
# are the trained network's: params.npy's size)
run shw show rs.ini
expect_rc 0 "$RC" "show a ResNet spec"
check "show: the network table (node s1b1c1, a conv2d)" grep -Eq '^; s1b1c1 +conv2d' shw.out
expect_eq "$(json rs/summary.json parameters)" "$(sed -n 's/^; Total params: //p' shw.out)" "show: the ResNet's parameter count"

# optimizer.drop_last: 129 samples in batches of 128 leave a last batch of 1,
# which batch norm over features cannot normalise in training mode (torch's
# rule); drop_last skips it: one step an epoch, whole epochs, resume exact
cat >bn1.ini <<'INI'
[data]
source = fashion-mnist
subset = 129
[problem]
type = network
[network]
input = input(1, 28, 28)
f = flatten(input)
h = linear(f, 16)
b = batchnorm(h)
r = relu(b)
output = linear(r, 10)
[optimizer]
type = sgd
lr = 0.05
momentum = 0.9
batch = 128
[run]
epochs = 3
INI
run bn1 train bn1.ini --out bn1 --quiet
expect_rc 1 "$RC" "a last batch of 1 sample through batchnorm"
check "the error names the node and suggests drop_last" grep -q 'b (batchnorm) in training mode needs more than one value.*drop_last' bn1.err
run bd train bn1.ini --out bd --quiet --set optimizer.drop_last=true
expect_rc 0 "$RC" "drop_last = true"
expect_eq "0 1 2 3" "$(csv_col bd/trace.csv epoch | tr '\n' ' ' | sed 's/ $//')" "drop_last: one step an epoch, whole epochs"
run bd1 train bn1.ini --out bd1 --quiet --set optimizer.drop_last=true --set run.epochs=1
run bd1r resume bd1 --quiet --set run.epochs=3
check "drop_last: resumed = uninterrupted (params.npy)" cmp -s bd/params.npy bd1/params.npy

finish
