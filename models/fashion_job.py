"""What the Fashion-MNIST jobs share: the command line, checkpoints, training, plots.

``softmax_fashion.py`` (the main job) and ``mlp_fashion.py`` are the same program around a
different model: each describes itself as a ``Job`` (its name, its models, its default
optimizer, learning rate and batch size) and calls ``main(job, argv)``. The behaviour, which
``softmax_fashion.py``'s docstring describes for both, lives here once:

- the options (``--device --model --epochs --lr --batch-size --optimizer --seed --data-dir
  --no-download --out --no-plots --eval-only --checkpoint --quiet``), checked, every bad one a
  one-line error with exit status 2 (``models/cli.py``);
- ``--checkpoint PATH`` without ``--eval-only`` resumes from PATH (weights and optimizer
  state) and updates it; the optimizer state is kept next to it, in ``X.optimizer.npz``;
- the outputs are checked before any work; the checkpoint is written atomically, both files
  together, and into the temporary folder when the disk fails;
- training on ``--device cuda`` keeps everything on the GPU: the data set is copied there once
  and batches are gathered there (``DataLoader``), and the Trainer reads the loss back only a
  few times an epoch.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable

from tinygrad_sm import manual_seed, optim, serialization
from tinygrad_sm.backend import usable_device
from tinygrad_sm.data import DataLoader
from tinygrad_sm.data.fashion_mnist import TEXT_LABELS
from tinygrad_sm.train import Trainer, TrainingDiverged, confusion_matrix

from models import cli

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Job:
    """One Fashion-MNIST job: what differs between ``softmax_fashion.py`` and ``mlp_fashion.py``.

    ``models`` maps each ``--model`` choice (the first is the default) to a function
    ``build(device) -> (model, loss_fn)``. ``load_data(data_dir, download=...)`` loads the data
    set; the scripts pass a function that looks their ``load_fashion_mnist`` up when called, so
    that a test can replace it there.
    """

    name: str  # the script's name without .py: also the default --out folder
    description: str
    title: str  # of the training-curves plot
    models: dict[str, Callable[[str], tuple[Any, Any]]]
    load_data: Callable[..., Any]
    default_lrs: dict[str, float]  # the learning rate each --optimizer starts from
    default_optimizer: str = "sgd"
    default_batch_size: int = 256


def parse_args(job: Job, argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a bad value raises ``cli.InputError`` naming it."""
    parser = cli.ArgumentParser(prog=f"{job.name}.py", description=job.description)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None,
                        help="where to train (default: $TINYGRAD_SM_DEVICE, else cpu)")
    models = list(job.models)
    parser.add_argument("--model", choices=models, default=models[0],
                        help=f"which model (default {models[0]})")
    parser.add_argument("--epochs", type=cli.positive_int, default=10)
    parser.add_argument("--lr", type=cli.positive_float, default=None,
                        help="learning rate (default: " + ", ".join(
                            f"{lr:g} for {name}" for name, lr in job.default_lrs.items()) +
                        "; when resuming, the saved one)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=job.default_batch_size,
                        help=f"default {job.default_batch_size}")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=job.default_optimizer,
                        help=f"default {job.default_optimizer}")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seeds weights and shuffling")
    parser.add_argument("--data-dir", type=cli.path_argument, default=None,
                        help="a folder with the four Fashion-MNIST IDX files (.gz or plain); "
                             "default: $FASHION_MNIST_DIR, the cache, the Debian package, a download")
    parser.add_argument("--no-download", action="store_true",
                        help="fail instead of downloading when no local copy is found")
    parser.add_argument("--out", type=cli.path_argument, default=os.path.join("runs", job.name),
                        help="folder for the plots and the checkpoint (made if missing)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--eval-only", action="store_true",
                        help="load --checkpoint and evaluate it on the test set, without training")
    parser.add_argument("--checkpoint", type=cli.path_argument, default=None,
                        help="with --eval-only: the checkpoint to evaluate; without: the checkpoint "
                             "to resume from if it exists, and to save to (default: OUT/MODEL.npz, "
                             "trained afresh)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    parser.add_argument("--jit", action="store_true",
                        help="capture the training step once and replay it as plain array code "
                             "(tinygrad_sm.jit): the same results, faster; see docs/jit.md")
    return parser.parse_args(argv)


def optimizer_state_path(checkpoint: str) -> str:
    """Where the optimizer state of ``checkpoint`` is kept: ``X.npz`` -> ``X.optimizer.npz``."""
    root = checkpoint[:-len(".npz")] if checkpoint.endswith(".npz") else checkpoint
    return root + ".optimizer.npz"


def make_optimizer(name: str, params: list, lr: float) -> optim.Optimizer:
    return optim.SGD(params, lr=lr) if name == "sgd" else optim.Adam(params, lr=lr)


def save_plots(out: str, title: str, trainer: Trainer, data: Any, test_loader: DataLoader,
               history: list | None) -> list[str]:
    from tinygrad_sm import plot

    y_true, y_pred = trainer.predict(test_loader)
    paths = []
    if history:
        paths.append(plot.plot_history(history, os.path.join(out, "curves.png"), title=title))
    paths.append(plot.plot_misclassified(data.test_images, y_true, y_pred,
                                         os.path.join(out, "misclassified.png"), TEXT_LABELS))
    paths.append(plot.plot_confusion_matrix(confusion_matrix(y_true, y_pred, len(TEXT_LABELS)),
                                            os.path.join(out, "confusion.png"), TEXT_LABELS))
    return paths


def main(job: Job, argv: list[str] | None = None) -> int:
    """Run the job; return the exit status (0, 1 when training fails, 2 for a bad input)."""
    try:
        return train_or_evaluate(job, parse_args(job, argv))
    except cli.InputError as e:
        return cli.fail(e)


def uses_out(args: argparse.Namespace) -> bool:
    """Whether the run writes into --out: the plots, or the default checkpoint."""
    return not args.no_plots or (not args.eval_only and args.checkpoint is None)


def check_outputs(args: argparse.Namespace) -> None:
    """Everything the run will write must be writable: checked before any work is done."""
    problems = []
    if uses_out(args):
        problems.append(cli.output_dir_problem(args.out, "--out"))
    if not args.eval_only and args.checkpoint is not None:
        problems.append(cli.output_file_problem(args.checkpoint, "--checkpoint"))
    for problem in problems:
        if problem is not None:
            raise cli.InputError(problem)


def load_checkpoint(job: Job, args: argparse.Namespace, checkpoint: str, model: Any,
                    optimizer: optim.Optimizer | None) -> None:
    """Load the weights (and, to resume, the optimizer state) or raise ``cli.InputError``.
    The files are host ``.npz`` files: what was saved on one device loads onto the other."""
    try:
        model.load(checkpoint)
    except (OSError, KeyError, ValueError, TypeError) as e:
        hint = ("" if not isinstance(e, KeyError) else "; pass the --model it was trained with"
                if len(job.models) > 1 else f"; pass a checkpoint that {job.name}.py saved")
        raise cli.InputError(f"{cli.error_text(e)}{hint}") from None
    if optimizer is None:
        return
    state = optimizer_state_path(checkpoint)
    if not os.path.exists(state):
        print(f"warning: no optimizer state at {state}: the {args.optimizer} optimizer starts "
              "afresh from the saved weights", file=sys.stderr)
        return
    try:
        optimizer.load(state)
    except (OSError, KeyError, ValueError, TypeError) as e:
        hint = "; pass the --optimizer it was trained with" if isinstance(e, KeyError) else ""
        raise cli.InputError(f"{cli.error_text(e)}{hint}") from None


def save_checkpoint(job: Job, model: Any, optimizer: optim.Optimizer, checkpoint: str) -> str | None:
    """Save the weights and the optimizer state together; on failure (a full disk, the folder
    gone) save them into the temporary folder instead, so the trained weights are not lost.
    Returns None on success, else the error message to print."""
    try:
        with serialization.saved_together():
            model.save(checkpoint)
            optimizer.save(optimizer_state_path(checkpoint))
        return None
    except OSError as e:
        fallback = os.path.join(tempfile.gettempdir(), f"{job.name}-{os.getpid()}.npz")
        try:
            with serialization.saved_together():
                model.save(fallback)
                optimizer.save(optimizer_state_path(fallback))
        except OSError as e2:
            return f"cannot save the checkpoint to {checkpoint} ({e}), nor to {fallback} ({e2})"
        return f"cannot save the checkpoint to {checkpoint} ({e}); saved it to {fallback} instead"


def train_or_evaluate(job: Job, args: argparse.Namespace) -> int:
    say = (lambda *a: None) if args.quiet else print
    try:
        device = usable_device(args.device)
    except (ValueError, RuntimeError) as e:
        raise cli.InputError(e) from None
    checkpoint = args.checkpoint or os.path.join(args.out, f"{args.model}.npz")
    resume = not args.eval_only and args.checkpoint is not None and os.path.exists(checkpoint)
    check_outputs(args)
    for path in (checkpoint, optimizer_state_path(checkpoint)):  # what killed runs left behind
        serialization.remove_stale_temporaries(path)

    manual_seed(args.seed)
    model, loss_fn = job.models[args.model](device)
    optimizer = make_optimizer(args.optimizer, list(model.parameters()), args.lr or job.default_lrs[args.optimizer])
    # Said even with --quiet, since they are about the user's files.
    if args.eval_only or resume:  # before the data: a bad checkpoint is found at once
        load_checkpoint(job, args, checkpoint, model, optimizer if resume else None)
        if resume:
            if args.lr is not None:
                optimizer.lr = args.lr
            print(f"resuming from {checkpoint}; it is updated when training ends")
    elif os.path.exists(checkpoint):
        print(f"note: {checkpoint} is replaced when training ends; to resume it instead, pass "
              f"--checkpoint {checkpoint}")

    try:
        data = job.load_data(args.data_dir, download=not args.no_download)
    except (OSError, ValueError) as e:
        raise cli.InputError(e) from None
    # On "cuda" the loaders copy the uint8 images to the GPU once and gather batches there.
    train_loader = DataLoader(data.train_dataset(), args.batch_size, shuffle=True,
                              seed=args.seed, device=device)
    test_loader = DataLoader(data.test_dataset(), args.batch_size, device=device)
    trainer = Trainer(model, loss_fn, optimizer, progress=not args.quiet,
                      log=None if args.quiet else print, jit=args.jit)

    if args.eval_only:
        result = trainer.evaluate(test_loader)
        print(f"test loss {result['loss']:.4f}  test accuracy {result['accuracy']:.4f}  "
              f"({checkpoint})")
        history = None
    else:
        say(f"training the {args.model} model on {device}: {len(data.train_labels)} examples, "
            f"{args.epochs} epochs, batch {args.batch_size}, {args.optimizer} lr {optimizer.lr}")
        start = time.perf_counter()
        try:
            history = trainer.fit(train_loader, args.epochs, val_loader=test_loader)
        except TrainingDiverged as e:
            return cli.fail(e, status=1)
        total = time.perf_counter() - start
        if args.checkpoint is None:
            os.makedirs(args.out, exist_ok=True)
        failure = save_checkpoint(job, model, optimizer, checkpoint)
        if failure is not None:
            return cli.fail(failure, status=1)
        seconds = sum(h.seconds for h in history) / len(history)
        print(f"test accuracy {history[-1].val_acc:.4f}  |  {seconds:.3f} s per epoch "
              f"(training only; {total:.1f} s in all)  |  checkpoint {checkpoint}")

    if not args.no_plots:
        try:
            os.makedirs(args.out, exist_ok=True)
            paths = save_plots(args.out, job.title, trainer, data, test_loader, history)
        except ImportError as e:
            print(f"warning: {e}", file=sys.stderr)
        except OSError as e:
            return cli.fail(f"cannot write the plots into {args.out}: {e}", status=1)
        else:
            say("plots: " + ", ".join(paths))
    return 0
