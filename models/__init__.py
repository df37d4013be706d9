"""The models of Dive into Deep Learning, chapter 3, built on tinygrad_sm.

- ``linear_regression.py``: linear regression from scratch and concise, on synthetic data.
- ``softmax_regression.py``: softmax regression from scratch and concise.
- ``softmax_fashion.py``: the main job, training softmax regression on Fashion-MNIST.
- ``mlp_fashion.py``, ``lenet_fashion.py``: a multilayer perceptron and LeNet on the same data.
- ``fashion_job.py``: what those three jobs share (flags, data, training, saving, resuming).
- ``softmax_experiments.py``: the exercises of section 4.4, run as experiments.
- ``cli.py``: what every script shares: argument types, one-line errors, signals.
"""
