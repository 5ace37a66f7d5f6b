"""The benchmark's pictures: answers.png (what a user gets, shown first) and recall.png (retrieval)."""
from __future__ import annotations

from pathlib import Path

from eval.evaluate import K_VALUES
from eval.report import language_groups, ordered_kinds

# What a user meets, each a share of its own group: the first two of answerable questions, the
# third of unanswerable ones (so they need not add up). Colours say good, a miss, and worst.
OUTCOME_BARS = (("right", "answered right", "#2e7d32"),
                ("answerable_declined", "answerable, declined", "#f9a825"),
                ("unanswerable_answered", "unanswerable, answered", "#c62828"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def answers(report: dict, path: Path) -> None:
    """Per answerer (one panel each) and question language: the three outcome shares as bars,
    each labelled with its value; a share that means nothing here (no unanswerable questions) is
    marked 'n/a' instead of drawn as zero, which would read as perfect."""
    plt = _pyplot()
    from matplotlib.patches import Patch

    answerers = report["outcomes"]
    fig, panels = plt.subplots(1, len(answerers), figsize=(6 * len(answerers), 4.6), sharey=True, squeeze=False)
    width = 0.8 / len(OUTCOME_BARS)
    for panel, (name, by_lang) in zip(panels[0], answerers.items()):
        groups = language_groups(by_lang)
        for i, (key, _, colour) in enumerate(OUTCOME_BARS):
            for x, group in enumerate(groups):
                value, at = by_lang[group].get(key), x + (i - 1) * width
                if value is None:
                    panel.text(at, 0.01, "n/a", ha="center", fontsize=7, color="grey")
                    continue
                panel.bar(at, value, width, color=colour)
                panel.text(at, value + 0.01, f"{value:.2f}", ha="center", fontsize=7)
        panel.set_xticks(range(len(groups)), [f"{g}\n{by_lang[g]['answerable']} answerable\n"
                                              f"{by_lang[g]['unanswerable']} unanswerable" for g in groups], fontsize=8)
        # fixed limits: room above 1.0 for labels and legend, and for an 'n/a' where no bar is drawn
        panel.set(title=name, ylim=(0, 1.2), xlim=(-0.6, len(groups) - 0.4))
        panel.grid(axis="y", alpha=0.3)
    panels[0][0].set_ylabel("share of its questions")
    # every outcome in the legend, drawn or not: an absent bar is explained by its 'n/a'
    panels[0][0].legend(handles=[Patch(color=colour, label=label) for _, label, colour in OUTCOME_BARS],
                        fontsize=8, loc="upper center", ncol=len(OUTCOME_BARS))
    fig.suptitle(f"{report['set']}: what a user gets, per question language")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def recall(report: dict, path: Path) -> None:
    """Recall@k per system, and Recall@5 per kind per system, side by side."""
    plt = _pyplot()
    systems = {name: b for name, b in report["retrieval"].items() if "unavailable" not in b}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    for name, breakdown in systems.items():
        left.plot(K_VALUES, [breakdown["all"][f"recall@{k}"] for k in K_VALUES], marker="o", label=name)
    left.set(xlabel="k", ylabel="Recall@k", title="Recall@k, all answerable questions", ylim=(0, 1.02), xticks=K_VALUES)
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    kinds = [k for k in ordered_kinds(next(iter(systems.values()))) if k != "all"]
    width = 0.8 / max(1, len(systems))
    for i, (name, breakdown) in enumerate(systems.items()):
        values = [breakdown.get(kind, {}).get("recall@5") or 0 for kind in kinds]
        right.bar([x + i * width for x in range(len(kinds))], values, width, label=name)
    right.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(kinds))], kinds)
    right.set(ylabel="Recall@5", title="Recall@5 per kind", ylim=(0, 1.02))
    right.legend(fontsize=8)
    right.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
