"""The MCR topology is declared once and the rest of the system reads it; registries refuse duplicates."""

from __future__ import annotations

import pytest

from mcrsearch.errors import ConfigError
from mcrsearch.modality import Modality
from mcrsearch.topology import CONNECTIONS, MCRS, connection, head_file, within_mcr


def test_connections_follow_from_the_mcrs_modalities():
    clap, ulip = CONNECTIONS["clap"], CONNECTIONS["ulip"]
    assert (clap.overlap, clap.leaf_other, clap.base_other) == (Modality.TEXT, Modality.AUDIO, Modality.IMAGE)
    assert (ulip.overlap, ulip.leaf_other, ulip.base_other) == (Modality.IMAGE, Modality.POINTS, Modality.TEXT)
    assert connection("clap", "clip") is clap and connection("clap", "ulip") is None
    assert [head_file(m, leaf) for m in ("cmcr", "exmcr") for leaf in ("clap", "ulip")] == \
        ["clap_clip.pt", "ulip_clip.pt", "ex_clap.pt", "ex_ulip.pt"]
    assert head_file("exmcr", "clap", oracle=True) == "oracle_ex_clap.pt"
    assert within_mcr(Modality.IMAGE, Modality.TEXT) and not within_mcr(Modality.AUDIO, Modality.POINTS)


def test_readers_of_the_topology_agree_with_it():
    from mcrsearch.encoders import ENCODER_FAMILIES
    from mcrsearch.heads import HEAD_KINDS
    from mcrsearch.miniworld.world import PAIRED_SPLITS
    from mcrsearch.weights import ARTIFACTS
    from mcrsearch_trainer.run import cmcr_kind, released_name
    from mcrsearch_trainer.synthetic import MCR_MODALITIES

    for name, mcr in MCRS.items():
        assert mcr.family in ENCODER_FAMILIES and all(a in ARTIFACTS for a in mcr.artifacts.values())
        assert PAIRED_SPLITS[f"mcr-{name}"] == mcr.modalities
        assert MCR_MODALITIES[name] == tuple(m.value for m in mcr.modalities)
    for leaf, conn in CONNECTIONS.items():
        assert conn.cmcr_kind in HEAD_KINDS and cmcr_kind(leaf, "clip") == conn.cmcr_kind
        for method, artifact in conn.artifacts.items():
            assert ARTIFACTS[artifact].files[0].name == conn.head_files[method] == released_name(method, leaf, "clip")


def test_registries_refuse_a_duplicate_name():
    from mcrsearch.benchmark.readers import READERS, available_readers, register_reader
    from mcrsearch.encoders import ENCODER_FAMILIES, encoder_families, register_encoder_family
    from mcrsearch.space import SPACE_BUILDERS, register_space

    with pytest.raises(ConfigError, match="already registered"):
        register_space("clip")(lambda settings: None)           # an installed plug-in's name
    assert "clip" not in SPACE_BUILDERS
    with pytest.raises(ConfigError, match="already registered"):
        register_space("miniworld")(lambda settings: None)
    with pytest.raises(ConfigError, match="already registered"):
        register_encoder_family("openclip", "somewhere:build")
    with pytest.raises(ConfigError, match="already registered"):
        register_encoder_family("mini", "somewhere:build")       # the mini-world's, an entry point
    assert ENCODER_FAMILIES["openclip"] == "mcrsearch.encoders.openclip:build"
    assert encoder_families()["mini"] == "mcrsearch.miniworld.encoder:build"
    with pytest.raises(ConfigError, match="already registered"):
        register_reader("coco", "somewhere:read")
    with pytest.raises(ConfigError, match="already registered"):
        register_reader("miniworld", "somewhere:read")
    assert READERS["coco"].endswith(":read_coco") and "miniworld" in available_readers()
