"""Face accuracy: LFW pairs protocol, 1:N on a folder-per-identity set, impostor calibration.

Definitions follow ISO/IEC 19795-1 (see docs/faces.md): FMR/FNMR per
comparison; FNIR/FPIR per search. Images where no face was found keep a
score of -1 (a failure to acquire counted against the system, never dropped).
"""
from __future__ import annotations

import numpy as np

from .faces_data import FaceSet, central_face

__all__ = ["pairs_protocol", "all_pairs_scores", "impostor_counts", "identification", "rates_at_threshold", "det_points"]

_NO_FACE_SCORE = -1.0


def _image_embeddings(faces: FaceSet) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the central face's embedding (zeros where none) and a found-flag."""
    pick = central_face(faces)
    emb = np.zeros((len(faces.paths), faces.embeddings.shape[1]), np.float32)
    found = pick >= 0
    emb[found] = faces.embeddings[pick[found]]
    return emb, found


def _wilson(successes: int, n: int) -> list[float]:
    """95% Wilson score interval of a proportion (scipy), e.g. how far one pair of 3,000 moves an accuracy."""
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(n)).proportion_ci(0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def _best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    cand = np.unique(scores)
    cuts = np.concatenate([[cand[0] - 1e-6], (cand[1:] + cand[:-1]) / 2, [cand[-1] + 1e-6]])
    acc = [np.mean((scores >= t) == same) for t in cuts]
    return float(cuts[int(np.argmax(acc))])


def _roc_summary(scores: np.ndarray, same: np.ndarray) -> dict:
    from sklearn.metrics import roc_curve

    far, tar, _ = roc_curve(same.astype(int), scores)
    frr = 1 - tar
    i = int(np.argmin(np.abs(far - frr)))
    n_imp = int((~same).sum())

    def tar_at(f):
        ok = far <= f
        return float(tar[ok].max()) if ok.any() else 0.0

    return {"eer": float((far[i] + frr[i]) / 2), "tar_at_far_1e-3": tar_at(1e-3), "tar_at_far_1e-4": tar_at(1e-4),
            "n_genuine": int(same.sum()), "n_impostor": n_imp,
            "far_resolution": 1.0 / max(n_imp, 1)}


def pairs_protocol(faces: FaceSet, pairs: list[tuple[str, str, bool]], half: int) -> dict:
    """LFW View-2 style: per fold, threshold chosen on the other folds; mean +- std accuracy."""
    emb, found = _image_embeddings(faces)
    where = {p: i for i, p in enumerate(faces.paths)}
    missing = sorted({p for a, b, _ in pairs for p in (a, b) if p not in where})
    if missing:
        raise ValueError(f"pairs file names {len(missing)} images missing from {faces.root}, e.g. {missing[0]}")
    ia = np.array([where[a] for a, _, _ in pairs])
    ib = np.array([where[b] for _, b, _ in pairs])
    same = np.array([s for _, _, s in pairs])
    scores = np.where(found[ia] & found[ib], np.einsum("ij,ij->i", emb[ia], emb[ib]), _NO_FACE_SCORE)
    fold = np.arange(len(pairs)) // (2 * half)
    accs, thresholds, errors = [], [], 0
    for f in np.unique(fold):
        t = _best_threshold(scores[fold != f], same[fold != f])
        right = (scores[fold == f] >= t) == same[fold == f]
        accs.append(float(np.mean(right)))
        errors += int((~right).sum())
        thresholds.append(t)
    return {"folds": int(fold.max() + 1), "pairs": len(pairs), "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)), "fold_accuracy": accs, "fold_threshold": thresholds,
            "errors": errors, "accuracy_ci95": _wilson(len(pairs) - errors, len(pairs)),
            "failures_to_acquire": int((~found[np.concatenate([ia, ib])]).sum()),
            **_roc_summary(scores, same), "scores": scores, "same": same}


def all_pairs_scores(faces: FaceSet, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Genuine and impostor scores of every image pair (central faces; faceless images skipped)."""
    emb, found = _image_embeddings(faces)
    ident = np.unique(np.asarray(faces.identities), return_inverse=True)[1][found]
    emb = emb[found]
    gen, imp = [], []
    for start in range(0, emb.shape[0], block):
        s = emb[start:start + block] @ emb.T
        rows = np.arange(start, min(start + block, emb.shape[0]))
        upper = np.arange(emb.shape[0])[None, :] > rows[:, None]
        same = ident[rows][:, None] == ident[None, :]
        gen.append(s[upper & same])
        imp.append(s[upper & ~same])
    return np.concatenate(gen).astype(np.float32), np.concatenate(imp).astype(np.float32)


def impostor_counts(sets: list[FaceSet], *, bins: int, block: int = 2048) -> tuple[np.ndarray, int]:
    """Histogram of every different-identity score over all ``sets`` together, and the image count.

    Identities are qualified by their set (people of different sets are taken
    as different people). Scores are computed block by block with a matrix
    product and binned into ``bins`` equal bins over [-1, 1], so no more than
    ``block`` rows of scores are held at once.
    """
    embs, idents = [], []
    for fs in sets:
        emb, found = _image_embeddings(fs)
        embs.append(emb[found])
        idents.extend(f"{fs.root.name}/{i}" for i, ok in zip(fs.identities, found) if ok)
    emb = np.concatenate(embs).astype(np.float32)
    ident = np.unique(np.asarray(idents), return_inverse=True)[1]
    counts = np.zeros(bins, np.int64)
    for start in range(0, emb.shape[0], block):
        stop = min(start + block, emb.shape[0])
        s = emb[start:stop] @ emb[start:].T
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, emb.shape[0])[None, :]
        keep = (cols > rows) & (ident[rows] != ident[cols])
        idx = np.clip(((s[keep].astype(np.float64) + 1.0) * (bins / 2.0)).astype(np.int64), 0, bins - 1)
        counts += np.bincount(idx, minlength=bins)
    return counts, int(emb.shape[0])


def rates_at_threshold(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> dict:
    return {"threshold": float(threshold), "fmr": float(np.mean(impostor >= threshold)),
            "fnmr": float(np.mean(genuine < threshold)), "n_genuine": int(genuine.size),
            "n_impostor": int(impostor.size)}


def _split_gallery(faces: FaceSet) -> tuple[list[int], list[int], list[int]]:
    """(gallery images, mated probe images, non-mated probe images)."""
    by_id: dict[str, list[int]] = {}
    for i, ident in enumerate(faces.identities):
        by_id.setdefault(ident, []).append(i)
    names = sorted(by_id)
    singles = [n for n in names if len(by_id[n]) == 1]
    gallery, mated, non_mated = [], [], []
    if singles:
        held_out = set(singles[1::2])
    else:  # no single-image identities: hold every 4th identity out of the gallery
        held_out = set(names[3::4])
    for n in names:
        if n in held_out:
            non_mated.extend(by_id[n])
        else:
            gallery.append(by_id[n][0])
            mated.extend(by_id[n][1:])
    return gallery, mated, non_mated


def identification(faces: FaceSet, *, fpir: float = 0.01, candidates: int = 20, threads: int = 1) -> dict:
    """Closed/open-set 1:N: first image of each identity in the gallery, exact FAISS search.

    Single-image identities alternate between gallery distractors and
    non-mated probes. FNIR at FPIR: T is set so that a share ``fpir`` of the
    non-mated searches return a candidate >= T; a mated search fails when its
    mate is not among the top ``candidates`` with score >= T.
    """
    from biomatch.index.faces import FaceIndex

    emb, found = _image_embeddings(faces)
    gallery, mated, non_mated = _split_gallery(faces)
    ident = np.asarray(faces.identities)
    index = FaceIndex(emb.shape[1], "flat", threads=threads)
    g = np.array([i for i in gallery if found[i]], np.int64)
    index.add(g, emb[g])
    k = min(candidates, len(g))

    def search(images):
        ok = np.array([i for i in images if found[i]], np.int64)
        s, ids = index.search(emb[ok], k) if ok.size else (np.zeros((0, k)), np.zeros((0, k), np.int64))
        full_s = np.full((len(images), k), -np.inf, np.float32)
        full_i = np.full((len(images), k), -1, np.int64)
        pos = np.isin(np.asarray(images), ok)
        full_s[pos], full_i[pos] = s, ids
        return full_s, full_i

    ms, mi = search(mated)
    hit = (mi >= 0) & (ident[np.maximum(mi, 0)] == ident[np.asarray(mated)][:, None])
    rank = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, np.inf)
    mate_score = np.where(hit.any(axis=1), np.where(hit, ms, -np.inf).max(axis=1), -np.inf)
    out = {"gallery_size": int(len(g)), "mated_searches": len(mated), "non_mated_searches": len(non_mated),
           "rank1": float(np.mean(rank <= 1)), "rank5": float(np.mean(rank <= 5)),
           "rank20": float(np.mean(rank <= 20)), "cmc": [float(np.mean(rank <= r)) for r in range(1, k + 1)]}
    if non_mated:
        ns, _ = search(non_mated)
        top = np.sort(ns[:, 0])
        t = float(np.quantile(top, 1 - fpir, method="higher")) + 1e-6
        out.update({"threshold_at_fpir": t, "fpir_target": fpir, "fpir_measured": float(np.mean(top >= t)),
                    "fnir_at_fpir_0_01" if fpir == 0.01 else f"fnir_at_fpir_{fpir}":
                        float(np.mean(~(mate_score >= t)))})
    return out


def det_points(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FMR, FNMR) along the DET curve, from scikit-learn's ROC."""
    from sklearn.metrics import roc_curve

    y = np.concatenate([np.ones(genuine.size, int), np.zeros(impostor.size, int)])
    fmr, tar, _ = roc_curve(y, np.concatenate([genuine, impostor]), drop_intermediate=True)
    return fmr, 1 - tar
