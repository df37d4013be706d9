"""Softmax regression on Fashion-MNIST: the main job (D2L 3.6 and 3.7).

    python models/softmax_fashion.py                      # the book's settings, on the CPU
    python models/softmax_fashion.py --device cuda --model concise
    python models/softmax_fashion.py --eval-only --checkpoint runs/softmax_fashion/scratch.npz
    python models/softmax_fashion.py --checkpoint runs/softmax_fashion/scratch.npz --epochs 5

Trains, prints a line per epoch and a final summary (test accuracy, seconds per epoch), and
writes into --out: the training curves, a grid of misclassified test images, a confusion matrix
and a checkpoint: the weights (MODEL.npz) and, next to them, the optimizer's state
(MODEL.optimizer.npz), saved together.

Checkpoints are never overwritten by surprise:

- ``--eval-only`` loads the checkpoint (``--checkpoint``, default OUT/MODEL.npz) and evaluates it.
- ``--checkpoint PATH`` without ``--eval-only`` *resumes* from PATH when it exists: the weights
  and the optimizer state are loaded, training runs ``--epochs`` more epochs, and PATH is then
  updated with the result. (``--lr`` given explicitly replaces the saved learning rate; the
  shuffling starts again from ``--seed``.) When PATH does not exist, training starts afresh and
  saves there.
- Without ``--checkpoint``, training starts afresh and saves OUT/MODEL.npz, replacing a previous
  run's, as it replaces its plots; the script says so when it starts, and how to resume instead.

Every bad argument or input file (checkpoint, data, output folder) ends in one line
``error: ...`` with exit status 2, and the output locations are checked before any work.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_sm as tg
from tinygrad_sm import optim, serialization
from tinygrad_sm.backend import usable_device
from tinygrad_sm.data import DataLoader, load_fashion_mnist
from tinygrad_sm.data.fashion_mnist import TEXT_LABELS
from tinygrad_sm.train import Trainer, TrainingDiverged, confusion_matrix

from models import cli
from models.softmax_regression import build

DEFAULT_LR = 0.1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a bad value raises ``cli.InputError`` naming it."""
    parser = cli.ArgumentParser(
        prog="softmax_fashion.py",
        description="Train softmax regression on Fashion-MNIST (Dive into Deep Learning, 3.6-3.7).")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None,
                        help="where to train (default: $TINYGRAD_SM_DEVICE, else cpu)")
    parser.add_argument("--model", choices=["scratch", "concise"], default="scratch",
                        help="the book's from-scratch model or the concise nn version")
    parser.add_argument("--epochs", type=cli.positive_int, default=10)
    parser.add_argument("--lr", type=cli.positive_float, default=None,
                        help=f"learning rate (default {DEFAULT_LR}; when resuming, the saved one)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=256)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seeds weights and shuffling")
    parser.add_argument("--data-dir", type=cli.path_argument, default=None,
                        help="a folder with the four Fashion-MNIST IDX files (.gz or plain); "
                             "default: $FASHION_MNIST_DIR, the cache, the Debian package, a download")
    parser.add_argument("--no-download", action="store_true",
                        help="fail instead of downloading when no local copy is found")
    parser.add_argument("--out", type=cli.path_argument, default=os.path.join("runs", "softmax_fashion"),
                        help="folder for the plots and the checkpoint (made if missing)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--eval-only", action="store_true",
                        help="load --checkpoint and evaluate it on the test set, without training")
    parser.add_argument("--checkpoint", type=cli.path_argument, default=None,
                        help="with --eval-only: the checkpoint to evaluate; without: the checkpoint "
                             "to resume from if it exists, and to save to (default: OUT/MODEL.npz, "
                             "trained afresh)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    return parser.parse_args(argv)


def optimizer_state_path(checkpoint: str) -> str:
    """Where the optimizer state of ``checkpoint`` is kept: ``X.npz`` -> ``X.optimizer.npz``."""
    root = checkpoint[:-len(".npz")] if checkpoint.endswith(".npz") else checkpoint
    return root + ".optimizer.npz"


def make_optimizer(name: str, params: list, lr: float) -> optim.Optimizer:
    return optim.SGD(params, lr=lr) if name == "sgd" else optim.Adam(params, lr=lr)


def save_plots(out: str, trainer: Trainer, data: object, test_loader: DataLoader,
               history: list | None) -> list[str]:
    from tinygrad_sm import plot

    y_true, y_pred = trainer.predict(test_loader)
    paths = []
    if history:
        paths.append(plot.plot_history(history, os.path.join(out, "curves.png"),
                                       title="softmax regression on Fashion-MNIST"))
    paths.append(plot.plot_misclassified(data.test_images, y_true, y_pred,
                                         os.path.join(out, "misclassified.png"), TEXT_LABELS))
    paths.append(plot.plot_confusion_matrix(confusion_matrix(y_true, y_pred, len(TEXT_LABELS)),
                                            os.path.join(out, "confusion.png"), TEXT_LABELS))
    return paths


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the exit status (0, 1 when training fails, 2 for a bad input)."""
    try:
        return train_or_evaluate(parse_args(argv))
    except cli.InputError as e:
        return cli.fail(e)


def check_outputs(args: argparse.Namespace, checkpoint: str) -> None:
    """Everything the run will write must be writable: checked before any work is done."""
    problems = []
    if uses_out(args):
        problems.append(cli.output_dir_problem(args.out, "--out"))
    if not args.eval_only and args.checkpoint is not None:
        problems.append(cli.output_file_problem(args.checkpoint, "--checkpoint"))
    for problem in problems:
        if problem is not None:
            raise cli.InputError(problem)


def load_checkpoint(args: argparse.Namespace, checkpoint: str, model: object,
                    optimizer: optim.Optimizer | None) -> None:
    """Load the weights (and, to resume, the optimizer state) or raise ``cli.InputError``."""
    try:
        model.load(checkpoint)
    except (OSError, KeyError, ValueError, TypeError) as e:
        hint = "; pass the --model it was trained with" if isinstance(e, KeyError) else ""
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


def save_checkpoint(model: object, optimizer: optim.Optimizer, checkpoint: str) -> str | None:
    """Save the weights and the optimizer state together; on failure (a full disk, the folder
    gone) save them into the temporary folder instead, so the trained weights are not lost.
    Returns None on success, else the error message to print."""
    try:
        with serialization.saved_together():
            model.save(checkpoint)
            optimizer.save(optimizer_state_path(checkpoint))
        return None
    except OSError as e:
        fallback = os.path.join(tempfile.gettempdir(), f"softmax_fashion-{os.getpid()}.npz")
        try:
            with serialization.saved_together():
                model.save(fallback)
                optimizer.save(optimizer_state_path(fallback))
        except OSError as e2:
            return f"cannot save the checkpoint to {checkpoint} ({e}), nor to {fallback} ({e2})"
        return f"cannot save the checkpoint to {checkpoint} ({e}); saved it to {fallback} instead"


def uses_out(args: argparse.Namespace) -> bool:
    """Whether the run writes into --out: the plots, or the default checkpoint."""
    return not args.no_plots or (not args.eval_only and args.checkpoint is None)


def train_or_evaluate(args: argparse.Namespace) -> int:
    say = (lambda *a: None) if args.quiet else print
    try:
        device = usable_device(args.device)
    except (ValueError, RuntimeError) as e:
        raise cli.InputError(e) from None
    checkpoint = args.checkpoint or os.path.join(args.out, f"{args.model}.npz")
    resume = not args.eval_only and args.checkpoint is not None and os.path.exists(checkpoint)
    check_outputs(args, checkpoint)
    for path in (checkpoint, optimizer_state_path(checkpoint)):  # what killed runs left behind
        serialization.remove_stale_temporaries(path)

    tg.manual_seed(args.seed)
    model, loss_fn = build(args.model, device=device)
    optimizer = make_optimizer(args.optimizer, list(model.parameters()), args.lr or DEFAULT_LR)
    # Said even with --quiet, since they are about the user's files.
    if args.eval_only or resume:  # before the data: a bad checkpoint is found at once
        load_checkpoint(args, checkpoint, model, optimizer if resume else None)
        if resume:
            if args.lr is not None:
                optimizer.lr = args.lr
            print(f"resuming from {checkpoint}; it is updated when training ends")
    elif os.path.exists(checkpoint):
        print(f"note: {checkpoint} is replaced when training ends; to resume it instead, pass "
              f"--checkpoint {checkpoint}")

    try:
        data = load_fashion_mnist(args.data_dir, download=not args.no_download)
    except (OSError, ValueError) as e:
        raise cli.InputError(e) from None
    train_loader = DataLoader(data.train_dataset(), args.batch_size, shuffle=True,
                              seed=args.seed, device=device)
    test_loader = DataLoader(data.test_dataset(), args.batch_size, device=device)
    trainer = Trainer(model, loss_fn, optimizer, progress=not args.quiet,
                      log=None if args.quiet else print)

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
        failure = save_checkpoint(model, optimizer, checkpoint)
        if failure is not None:
            return cli.fail(failure, status=1)
        seconds = sum(h.seconds for h in history) / len(history)
        print(f"test accuracy {history[-1].val_acc:.4f}  |  {seconds:.3f} s per epoch "
              f"(training only; {total:.1f} s in all)  |  checkpoint {checkpoint}")

    if not args.no_plots:
        try:
            os.makedirs(args.out, exist_ok=True)
            paths = save_plots(args.out, trainer, data, test_loader, history)
        except ImportError as e:
            print(f"warning: {e}", file=sys.stderr)
        except OSError as e:
            return cli.fail(f"cannot write the plots into {args.out}: {e}", status=1)
        else:
            say("plots: " + ", ".join(paths))
    return 0


if __name__ == "__main__":
    cli.run(main)
