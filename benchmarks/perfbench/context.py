"""The machine and the product's index settings a run measures with: stored with the results, so that the
section's first line says what the numbers were measured on, whenever it is rendered."""

from __future__ import annotations

import os
import platform

from .ann import variant_name


def measured_with() -> dict:
    """`_machine` and `_settings` entries for the results, from this process and the store's defaults."""
    from mcrsearch.store import DEFAULT_SCHEMA, INDEXED_FIELDS, INDEXING_THREADS, OVERSAMPLING, QUANTILE, SEARCH_EF

    schema = DEFAULT_SCHEMA
    return {"_machine": {"arch": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
            "_settings": {"variant": variant_name(schema), "m": schema.m, "ef_construct": schema.ef_construct,
                          "payload_m": schema.payload_m, "tenant": schema.tenant, "quantization": schema.quantization,
                          "indexing_threads": INDEXING_THREADS, "quantile": QUANTILE, "search_ef": SEARCH_EF,
                          "oversampling": OVERSAMPLING, "indexed_fields": list(INDEXED_FIELDS)}}
