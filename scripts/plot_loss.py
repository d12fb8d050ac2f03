#!/usr/bin/python3
"""Plots a training run's loss curve: loss.csv (epoch, train_loss, validation_loss, learning_rate,
seconds; written by `fluxion train`) -> a PNG with both losses on a log scale and the learning rate.
  /usr/bin/python3 scripts/plot_loss.py OUT/loss.csv OUT/loss.png [title]"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = list(csv.DictReader(open(sys.argv[1])))
    if not rows:
        sys.exit(f"{sys.argv[1]}: no epochs")
    epoch = [int(r["epoch"]) for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(epoch, [float(r["train_loss"]) for r in rows], "o-", ms=3, label="training")
    ax.semilogy(epoch, [float(r["validation_loss"]) for r in rows], "s-", ms=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(True, which="both", alpha=0.3)
    rate = ax.twinx()
    rate.plot(epoch, [float(r["learning_rate"]) for r in rows], "k:", lw=1, label="learning rate")
    rate.set_ylabel("learning rate (dotted)")
    ax.legend(loc="upper right")
    total = sum(float(r["seconds"]) for r in rows)
    ax.set_title((sys.argv[3] + "\n" if len(sys.argv) > 3 else "") + f"{len(rows)} epochs, {total:.0f} s", fontsize=9)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
