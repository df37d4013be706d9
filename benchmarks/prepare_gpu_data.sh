#!/usr/bin/env bash
# Copy the four Fashion-MNIST files into data/fashion-mnist/ (git-ignored), so that they travel
# with the working tree to a machine without network access (see DEVELOPERS.md).
#
#   bash benchmarks/prepare_gpu_data.sh [SOURCE_DIR]
#
# SOURCE_DIR defaults to $FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist (what
# `apt-get install dataset-fashion-mnist` provides). Files already there are kept. Exits with
# status 1, saying which file is missing, when the source lacks one.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOURCE="${1:-${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}}"
TARGET="$ROOT/data/fashion-mnist"
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

mkdir -p "$TARGET"
for name in $FILES; do
    if [ -s "$TARGET/$name.gz" ] || [ -s "$TARGET/$name" ]; then
        continue
    fi
    if [ -s "$SOURCE/$name.gz" ]; then
        cp "$SOURCE/$name.gz" "$TARGET/$name.gz"
    elif [ -s "$SOURCE/$name" ]; then
        cp "$SOURCE/$name" "$TARGET/$name"
    else
        echo "error: $SOURCE has no $name(.gz); install the data set (apt-get install dataset-fashion-mnist) or pass the folder that holds it" >&2
        exit 1
    fi
done
echo "Fashion-MNIST in $TARGET: $(du -sh "$TARGET" | cut -f1)"
