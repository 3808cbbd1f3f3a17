"""Auto-deleveraging (ADL): who pays the bad debt the insurance fund cannot cover.

When a bankrupt position's shortfall exceeds the insurance fund, venues close *profitable
opposite-side* positions against it at the bankrupt position's bankruptcy price, taking part of
their profit. The queue is ranked (BitMEX; Binance and Hyperliquid rank the same way):

* ``PnL% = uPnL / |entry notional|`` of the opposite position (only profitable ones, PnL% > 0);
* ``effective leverage = |mark notional| / equity`` of the part that backs it (the cross pool's
  equity, or the isolated bucket's margin + uPnL) — BitMEX's ``|markValue| / (markValue -
  bankruptValue)``;
* ``rank score = PnL% x effective leverage``, highest first.

Each queued position can give up at most its unrealized profit (closing it at the bankruptcy
price rather than the mark takes at most that). The loss of each (asset, side) is taken down its
queue in order. What the queues cannot absorb — and the deficit of a bankrupt pool without any
perp (a lending deficit has no opposite side) — is spread over the remaining equity of every
account that was not liquidated, pro rata (the "socialized loss" / clawback of older venues). If no
such account has equity left, that remainder is reported as ``unassigned``.

The engine reports what each account would give up (``socialized_by_account``); it does not
close the deleveraged positions in the returned book.

References
----------
* BitMEX, "What is Auto-Deleveraging":
  https://support.bitmex.com/hc/en-gb/articles/18589621443357-What-is-Auto-Deleveraging
  (domain.md section 8.9).
* Hyperliquid auto-deleveraging:
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging (section 5).
* dYdX v4 deleveraging at the bankruptcy price (section 3, worked example 4).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ADLAssignment(NamedTuple):
    socialized_by_account: np.ndarray   # (A,) amount each account gives up
    adl_rank: np.ndarray                # (A,) best 1-based place in any queue; 0 if in none
    adl_score: np.ndarray               # (A, n) PnL% x effective leverage; NaN if not queued
    unassigned: float                   # socialized loss nobody was left to pay


def adl_scores(h, q, ep, m, cash, isolated, P):
    """Ranking score ``PnL% x effective leverage`` per position, shape (A, n); NaN unless the
    position is profitable. Also returns the profit (capacity) per position."""
    upnl = q * (P - ep)
    entry = np.abs(q) * ep
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(entry > 0, upnl / entry, 0.0)
    cross_q = np.where(isolated[:, None], 0.0, q)
    pool_eq = (h * P).sum(1) + cash + (cross_q * (P - ep)).sum(1)
    part_eq = np.where(isolated[:, None], m + upnl, pool_eq[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        lev = np.abs(q) * P / np.maximum(part_eq, 1e-12)
    ok = (upnl > 0) & (q != 0)
    return np.where(ok, pct * lev, np.nan), np.where(ok, upnl, 0.0)


def assign_adl(loss_by_side, loss_other, h, q, ep, m, cash, isolated, P,
               excluded) -> ADLAssignment:
    """Assign socialized losses down the ADL queues (see module docstring).

    ``loss_by_side`` (n, 2): loss of bankrupt longs (column 0, taken from profitable shorts) and
    bankrupt shorts (column 1, from profitable longs) per asset; ``loss_other``: loss with no
    opposite side; ``excluded`` (A,): accounts that cannot be deleveraged (liquidated ones).
    Only open positions are scored (a sparse pass over the book).
    """
    A, n = q.shape
    taken = np.zeros(A)
    rank = np.zeros(A, dtype=np.int64)
    score_full = np.full((A, n), np.nan)
    cells = np.flatnonzero(q.ravel() != 0)
    r, c = np.divmod(cells, n)
    keep = ~excluded[r]
    cells, r, c = cells[keep], r[keep], c[keep]
    qc, epc, Pc = q.ravel()[cells], ep.ravel()[cells], P[c]
    upnl = qc * (Pc - epc)
    prof = upnl > 0
    cells, r, c, qc, epc, Pc, upnl = (x[prof] for x in (cells, r, c, qc, epc, Pc, upnl))
    # Equity of the part backing each queued position: its bucket, or the account's pool.
    iso = isolated[r]
    rows = np.unique(r[~iso])
    pool_eq = np.zeros(A)
    if rows.size:
        cq = np.where(isolated[rows, None], 0.0, q[rows])
        pool_eq[rows] = (h[rows] * P).sum(1) + cash[rows] + (cq * (P - ep[rows])).sum(1)
    part_eq = np.where(iso, m.ravel()[cells] + upnl, pool_eq[r])
    with np.errstate(divide="ignore", invalid="ignore"):
        score = upnl / (np.abs(qc) * epc) * (np.abs(qc) * Pc / np.maximum(part_eq, 1e-12))
    score_full.ravel()[cells] = score
    left = float(loss_other)
    for a in range(n):                               # a loop over assets and sides, not accounts
        for side, sign in ((0, -1.0), (1, 1.0)):     # bankrupt long -> shorts pay, and vice versa
            loss = float(loss_by_side[a, side])
            sel = np.flatnonzero((c == a) & (np.sign(qc) == sign))
            if sel.size:
                sel = sel[np.argsort(-score[sel], kind="stable")]
                acc = r[sel]
                pos = np.arange(1, sel.size + 1)
                rank[acc] = np.where(rank[acc] == 0, pos, np.minimum(rank[acc], pos))
                if loss > 0:
                    cap = upnl[sel]
                    take = np.clip(loss - (np.cumsum(cap) - cap), 0.0, cap)
                    np.add.at(taken, acc, take)
                    loss -= float(take.sum())
            left += max(loss, 0.0)
    unassigned = 0.0
    if left > 0:
        eq = (h * P).sum(1) + cash + (q * (P - ep)).sum(1) + m.sum(1) - taken
        base = np.where(excluded, 0.0, np.maximum(eq, 0.0))
        tot = float(base.sum())
        if tot > 0:
            spread = base * (min(left, tot) / tot)
            taken += spread
            unassigned = left - float(spread.sum())
            if abs(unassigned) < 1e-9 * max(left, 1.0):
                unassigned = 0.0
        else:
            unassigned = left
    return ADLAssignment(taken, rank, score_full, unassigned)
