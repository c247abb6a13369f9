"""Build a folder of buckets holding what the batch pipeline would have written.

Each run takes the 8 hours of the real IoT-23 Zeek sample that end at its run
time and emits the pipeline's four artifacts from them: the raw events, the
silver table, the pickled IsolationForest and the long evaluation table.
``python -m demo.build_store TARGET`` writes them as ``TARGET/<bucket>/<name>``,
each file dated to its run so LastModified orders the runs as in MinIO.
"""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import f1_score, precision_score, recall_score

from components.readers.scoring import model_features

SAMPLE = Path(__file__).parent / "data" / "zeek_conn_sample.parquet"

RAW_COLUMNS = ("timestamp", "src_ip", "dst_ip", "bytes", "duration", "protocol")
FEATURES = ("bytes", "duration", "bytes_per_second")

# The sample spans 2018-12-21 14:50 to 2018-12-22 14:50 UTC: three 8-hour runs.
RUN_TIMES = tuple(
    pd.Timestamp(moment, tz="UTC")
    for moment in ("2018-12-21 22:50:00", "2018-12-22 06:50:00",
                   "2018-12-22 14:50:00")
)
WINDOW = pd.Timedelta(hours=8)

# Written beside the buckets: the data keeps its attribution wherever it goes.
ATTRIBUTION = """# Demo data attribution

Every event in this demo store comes from IoT-23, capture
CTU-IoT-Malware-Capture-34-1 (Mirai), Stratosphere Laboratory, CTU Prague:
Garcia, Parmisano, Erquiaga (2020), Zenodo doi 10.5281/zenodo.4743746.
Cite IoT-23 wherever the data is shown, and confirm its licence before any
public redistribution (see demo/data/README.md in SOC Copilot).
"""

BUCKETS = {
    "raw": "cybersec-ml-raw",
    "silver": "cybersec-ml-silver",
    "models": "cybersec-ml-models",
    "eval": "cybersec-ml-eval",
}


def load_sample(path: Path = SAMPLE) -> pd.DataFrame:
    """The shipped Zeek conn records (raw schema first, then Zeek's extras)."""
    return pd.read_parquet(path)


def run_stamp(run_time: pd.Timestamp) -> str:
    """The ``YYYYMMDD_HHMMSS`` stamp the pipeline puts in object names."""
    return run_time.strftime("%Y%m%d_%H%M%S")


def raw_window(events: pd.DataFrame, run_time: pd.Timestamp) -> pd.DataFrame:
    """The raw-schema events of the 8 hours that end at ``run_time``."""
    end = _utc(run_time)
    times = events["timestamp"]
    inside = (times >= end - WINDOW) & (times < end)
    return events.loc[inside, list(RAW_COLUMNS)].reset_index(drop=True)


def to_silver(raw: pd.DataFrame) -> pd.DataFrame:
    """Add the pipeline's derived columns; a zero duration gives inf or NaN."""
    return raw.assign(
        bytes_per_second=raw["bytes"] / raw["duration"],
        timestamp_hour=raw["timestamp"].dt.hour,
        flow_size_category=pd.cut(
            raw["bytes"], bins=[0, 500, 1500, 10000],
            labels=["small", "medium", "large"],
        ),
    )


def train_model(silver: pd.DataFrame) -> IsolationForest:
    """Fit the pipeline's IsolationForest on the bare feature matrix."""
    model = IsolationForest(n_estimators=100, contamination="auto", random_state=42)
    return model.fit(model_features(silver, FEATURES))


def evaluate(model: IsolationForest, silver: pd.DataFrame) -> pd.DataFrame:
    """The long ``metric, value`` table of the pipeline's evaluation step.

    There are no labels, so the ground truth is all zeros, as upstream.
    """
    features = model_features(silver, FEATURES)
    scores = model.decision_function(features)
    prediction = (model.predict(features) == -1).astype(int)
    truth = np.zeros_like(prediction)
    metrics = {
        "precision": precision_score(truth, prediction, zero_division=0),
        "recall": recall_score(truth, prediction, zero_division=0),
        "f1": f1_score(truth, prediction, zero_division=0),
        "anomaly_rate": prediction.mean(),
        "score_mean": scores.mean(),
        "score_std": scores.std(),
    }
    return pd.DataFrame({
        "metric": list(metrics),
        "value": [float(value) for value in metrics.values()],
    })


def run_objects(events: pd.DataFrame, run_time: pd.Timestamp
                ) -> dict[str, tuple[str, bytes]]:
    """Bucket name to (object name, content) for one pipeline run."""
    stamp = run_stamp(run_time)
    raw = raw_window(events, run_time)
    silver = to_silver(raw)
    model = train_model(silver)
    return {
        BUCKETS["raw"]: (f"network_events_{stamp}.parquet",
                         raw.to_parquet(index=False)),
        BUCKETS["silver"]: (f"network_events_silver_{stamp}.parquet",
                            silver.to_parquet(index=False)),
        BUCKETS["models"]: (f"model_isoforest_{stamp}.pkl", pickle.dumps(model)),
        BUCKETS["eval"]: (f"eval_{stamp}.parquet",
                          evaluate(model, silver).to_parquet(index=False)),
    }


def pipeline_objects(events: pd.DataFrame, run_times: list[pd.Timestamp]
                     ) -> dict[str, dict[str, bytes]]:
    """Bucket name to {object name: bytes} for every run, oldest first."""
    buckets: dict[str, dict[str, bytes]] = {name: {} for name in BUCKETS.values()}
    for run_time in run_times:
        for bucket, (name, data) in run_objects(events, run_time).items():
            buckets[bucket][name] = data
    return buckets


def build_demo_store(target: Path, events: pd.DataFrame | None = None) -> Path:
    """Write the default runs under ``target``, dated to their run times."""
    target = Path(target)
    events = load_sample() if events is None else events
    for run_time in RUN_TIMES:
        moment = _utc(run_time).timestamp()
        for bucket, (name, data) in run_objects(events, run_time).items():
            path = target / bucket / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (moment, moment))
    (target / "ATTRIBUTION.md").write_text(ATTRIBUTION)
    return target


def _utc(moment: pd.Timestamp) -> pd.Timestamp:
    moment = pd.Timestamp(moment)
    return moment.tz_localize("UTC") if moment.tz is None else moment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.build_store",
        description="Write a demo artifact store from the IoT-23 Zeek sample.",
    )
    parser.add_argument("target", type=Path,
                        help="folder to fill with one sub-folder per bucket")
    target = build_demo_store(parser.parse_args(argv).target)
    count = sum(1 for path in target.glob("*/*") if path.is_file())
    print(f"demo store at {target.resolve()}: {count} objects")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
