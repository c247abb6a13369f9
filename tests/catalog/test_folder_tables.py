"""Without a Dask cluster, a folder of Parquet parts is read in this process,
as one table, within the limit one object has."""

from __future__ import annotations

import pandas as pd
import pytest

from components.catalog import Catalog
from components.readers import normalise_events
from components.store import ArtifactStore, StoreConfig, StoreError
from tests.partitioned import folder_objects, parquet_bytes, score_rows

SCORES = "soc-copilot-folder-tables"
FOLDER = "scores_20181222_145000"


def folder_catalog(tmp_path, objects: dict[str, bytes], **settings) -> Catalog:
    for name, data in objects.items():
        path = tmp_path / SCORES / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    env = {"SOC_COPILOT_STORE": str(tmp_path), "SCORES_BUCKET": SCORES, **settings}
    catalog = Catalog(store=ArtifactStore(StoreConfig.from_env(env)))
    catalog.refresh()
    return catalog


def test_the_parts_are_the_rows_of_one_table_in_order(tmp_path):
    table = score_rows(900, seed=5)
    catalog = folder_catalog(tmp_path, folder_objects(table, FOLDER, 3))

    events = catalog.load_events()

    assert catalog.events == f"{SCORES}/{FOLDER}"
    expected = normalise_events(table, f"{SCORES}/{FOLDER}")
    text = dict.fromkeys(["src_ip", "dst_ip", "protocol", "action"], str)
    pd.testing.assert_frame_equal(events.frame.astype(text),
                                  expected.frame.astype(text))
    # Text arrives as categories, decoded once per value, as for one object.
    assert isinstance(events.frame["dst_ip"].dtype, pd.CategoricalDtype)


def test_a_folder_over_the_object_limit_names_dask(tmp_path):
    catalog = folder_catalog(tmp_path, folder_objects(score_rows(90_000, 6),
                                                      FOLDER, 3),
                             SOC_COPILOT_MAX_OBJECT_MB="1")

    with pytest.raises(StoreError, match="SOC_COPILOT_DASK_SCHEDULER"):
        catalog.load_events()


def test_parts_that_disagree_on_a_column_type_are_refused(tmp_path):
    first, second = score_rows(100, 7), score_rows(100, 8)
    second["bytes"] = "many"
    objects = {f"{FOLDER}/part.0.parquet": parquet_bytes(first),
               f"{FOLDER}/part.1.parquet": parquet_bytes(second)}
    catalog = folder_catalog(tmp_path, objects)

    with pytest.raises(ValueError, match=f"parts of '{SCORES}/{FOLDER}'"):
        catalog.load_events()
