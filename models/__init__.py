"""The models of Dive into Deep Learning, chapter 3, built on tinygrad_sm.

- ``linear_regression.py``: linear regression from scratch and concise, on synthetic data.
- ``softmax_regression.py``: softmax regression from scratch and concise.
- ``softmax_fashion.py``: the main job, training softmax regression on Fashion-MNIST.
"""
