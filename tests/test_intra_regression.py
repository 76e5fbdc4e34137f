"""The short regression check for intra alignment (issue 23): on synthetic MCRs with a built-in modality gap
(no encoder, no world to build), the real trainer's intra term must close each MCR's gap where it acts, and a
zeroed or sign-flipped term must not. The full version runs on the hard mini-world in tests/test_claims_slow.py.

Measured over seeds 0-7 in this configuration: the real term cuts the mean gap by 2.5-3.6% (C-MCR) and
2.6-3.1% (Ex-MCR); zeroed it cuts 0.0% exactly; sign-flipped it widens it by 2.7-3.8% (C-MCR) and 2.3-2.6%
(Ex-MCR). The floor sits at 1%, 2.5x below the weakest real seed.
"""

from __future__ import annotations

import pytest
from helpers.intra import gap_drops

FLOOR = 0.01                       # minimum relative drop of the mean gap that the real intra term must give
SEEDS = (0, 1)
BROKEN = {"zeroed": 0, "sign-flipped": 1}
# Short training: 400 unpaired rows per modality, C-MCR 20 epochs, Ex-MCR 10 (its tuples pool three times the rows).
SHORT = {"cmcr": {"epochs": 20}, "exmcr": {"epochs": 10}}


@pytest.fixture(scope="module")
def feats():
    from mcrsearch_trainer.synthetic import synthetic_feats

    return synthetic_feats(n_unpaired=400, n_test=200, n_oracle=2)


@pytest.mark.parametrize("method", ["cmcr", "exmcr"])
def test_intra_alignment_closes_the_gap_and_a_broken_one_does_not(method, feats, single_thread):
    real, broken = gap_drops(method, feats, SEEDS, BROKEN, **SHORT[method])
    assert min(real) > FLOOR, f"{method}: intra alignment no longer closes the modality gap: drops {real}"
    for name, drop in broken.items():
        assert drop <= FLOOR, f"{method}: the check cannot tell a {name} intra term from the real one ({drop})"
