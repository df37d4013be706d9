"""Softmax regression on Fashion-MNIST: the main job (D2L 3.6 and 3.7).

    python models/softmax_fashion.py                      # the book's settings, on the CPU
    python models/softmax_fashion.py --device cuda --model concise
    python models/softmax_fashion.py --eval-only --checkpoint runs/softmax_fashion/scratch.npz

Trains, prints a line per epoch and a final summary (test accuracy, seconds per epoch), and
writes into --out: the training curves, a grid of misclassified test images, a confusion matrix
and a checkpoint of the weights.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_sm as tg
from tinygrad_sm import optim
from tinygrad_sm.backend import usable_device
from tinygrad_sm.data import DataLoader, load_fashion_mnist
from tinygrad_sm.data.fashion_mnist import TEXT_LABELS
from tinygrad_sm.train import Trainer, TrainingDiverged, confusion_matrix

from models.softmax_regression import build


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train softmax regression on Fashion-MNIST (Dive into Deep Learning, 3.6-3.7).")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None,
                        help="where to train (default: $TINYGRAD_SM_DEVICE, else cpu)")
    parser.add_argument("--model", choices=["scratch", "concise"], default="scratch",
                        help="the book's from-scratch model or the concise nn version")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    parser.add_argument("--seed", type=int, default=0, help="seeds weights and shuffling")
    parser.add_argument("--data-dir", default=None,
                        help="a folder with the four Fashion-MNIST IDX files (.gz or plain); "
                             "default: $FASHION_MNIST_DIR, the cache, the Debian package, a download")
    parser.add_argument("--no-download", action="store_true",
                        help="fail instead of downloading when no local copy is found")
    parser.add_argument("--out", default=os.path.join("runs", "softmax_fashion"),
                        help="folder for the plots and the checkpoint")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--eval-only", action="store_true",
                        help="load --checkpoint and evaluate it on the test set, without training")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint to load with --eval-only (default: OUT/MODEL.npz)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not args.lr > 0:
        parser.error("--lr must be positive")
    return args


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
    args = parse_args(argv)
    say = (lambda *a: None) if args.quiet else print
    try:
        device = usable_device(args.device)
    except (ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    tg.manual_seed(args.seed)

    try:
        data = load_fashion_mnist(args.data_dir, download=not args.no_download)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    train_loader = DataLoader(data.train_dataset(), args.batch_size, shuffle=True,
                              seed=args.seed, device=device)
    test_loader = DataLoader(data.test_dataset(), args.batch_size, device=device)

    model, loss_fn = build(args.model, device=device)
    trainer = Trainer(model, loss_fn, make_optimizer(args.optimizer, list(model.parameters()), args.lr),
                      progress=not args.quiet, log=None if args.quiet else print)
    checkpoint = args.checkpoint or os.path.join(args.out, f"{args.model}.npz")

    if args.eval_only:
        try:
            model.load(checkpoint)
        except (FileNotFoundError, KeyError, ValueError) as e:
            print(f"error: cannot load checkpoint {checkpoint} into the {args.model} model: {e}\n"
                  "hint: pass the --model the checkpoint was trained with", file=sys.stderr)
            return 2
        result = trainer.evaluate(test_loader)
        print(f"test loss {result['loss']:.4f}  test accuracy {result['accuracy']:.4f}  "
              f"({checkpoint})")
        history = None
    else:
        say(f"training the {args.model} model on {device}: {len(data.train_labels)} examples, "
            f"{args.epochs} epochs, batch {args.batch_size}, {args.optimizer} lr {args.lr}")
        start = time.perf_counter()
        try:
            history = trainer.fit(train_loader, args.epochs, val_loader=test_loader)
        except TrainingDiverged as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        total = time.perf_counter() - start
        os.makedirs(args.out, exist_ok=True)
        model.save(checkpoint)
        seconds = sum(h.seconds for h in history) / len(history)
        print(f"test accuracy {history[-1].val_acc:.4f}  |  {seconds:.3f} s per epoch "
              f"(training only; {total:.1f} s in all)  |  checkpoint {checkpoint}")

    if not args.no_plots:
        try:
            paths = save_plots(args.out, trainer, data, test_loader, history)
        except ImportError as e:
            print(f"warning: {e}", file=sys.stderr)
        else:
            say("plots: " + ", ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
