"""The kNN head of a jobshift classifier replayed in numpy, exactly as `heads/knn.rs` scores it:
the k nearest training vectors by cosine similarity, each label's logit = scale * its best
neighbour's similarity + ln(its votes), softmax over the labels among the neighbours. Shared by
`ensemble_sim.py` and `calibration_sim.py`.
"""
import json, os
import numpy as np


def load_head(clf):
    """The classifier directory's `classifier.json`, its kNN head's parameters, training vectors
    (rows × dim, L2-normalized as stored) and their class indices."""
    meta = json.load(open(os.path.join(clf, "classifier.json")))
    head = json.load(open(os.path.join(clf, "head", "head.json")))["head"]
    X = np.fromfile(os.path.join(clf, "head", "head.f32"), dtype="<f4").reshape(-1, head["dim"])
    return meta, head, X, np.array(head["labels"])


def neighbour_votes(e, X, y, k, scale, block=2048):
    """For each row of `e` (L2-normalized embeddings), in order: the labels among its k
    neighbours, their probabilities (aligned with the labels), each label's best similarity and
    votes (dicts), and the best similarity of any neighbour."""
    for s in range(0, len(e), block):
        sim = e[s:s + block] @ X.T
        near = np.argpartition(-sim, k, axis=1)[:, :k]
        for r, row in enumerate(near):
            best, votes = {}, {}
            for j in row:
                label = y[j]
                best[label] = max(best.get(label, -9.0), sim[r, j])
                votes[label] = votes.get(label, 0) + 1
            labels = list(best)
            logit = np.array([scale * best[l] + np.log(votes[l]) for l in labels])
            q = np.exp(logit - logit.max())
            yield labels, q / q.sum(), best, votes, sim[r, row].max()
