"""What the store holds and which of it is selected: the views' shared source.

A ``Catalog`` lists the pipeline's buckets, remembers the analyst's choice of
model and events, and hands the views parsed, normalised data. Reads go through
the store's process-wide cache, so many sessions cost one read per artifact.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import param

from . import get_logger
from .event_tables import EventTable, load_event_table
from .readers import (
    ModelArtifact,
    ScoredEvents,
    read_evaluation,
    read_model,
    score_events,
)
from .readers.dask_events import DaskEvents
from .readers.tables import TABLE_SUFFIXES
from .store import ArtifactInfo, ArtifactStore, StoreConfig, latest
from .store.dask_client import DaskSettings
from .store.store import shared_store

log = get_logger(__name__)

MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib")

BUCKET_ROLES = ("models", "eval", "silver", "scores")


@dataclass
class StoreListing:
    """One pass over the buckets: objects per role that answered, and why
    the others did not."""

    objects: dict[str, list[ArtifactInfo]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


class Catalog(param.Parameterized):
    """The artifacts in the store, refreshed on demand, and the selection."""

    store = param.ClassSelector(class_=ArtifactStore, allow_None=True, doc="""
        Where artifacts are read from; None when no store is configured.""")

    models = param.List(default=[], item_type=ArtifactInfo, doc="""
        Model objects, oldest run first.""")

    evaluations = param.List(default=[], item_type=ArtifactInfo, doc="""
        Evaluation objects, oldest run first.""")

    event_tables = param.List(default=[], item_type=ArtifactInfo, doc="""
        Tables of events: silver tables (scored here) and score tables.""")

    model = param.Selector(default=None, objects=[], allow_None=True, doc="""
        Name of the selected model; the latest after each refresh unless the
        analyst chose another that still exists.""")

    events = param.Selector(default=None, objects=[], allow_None=True, doc="""
        Path of the selected events table: a per-event scores table, or a
        silver table that the selected model scores.""")

    problems = param.Dict(default={}, doc="""
        Per bucket role, why listing it failed; empty when all answered.""")

    last_refresh = param.Date(default=None, allow_None=True, doc="""
        When the buckets were last listed (UTC).""")

    last_good_refresh = param.Date(default=None, allow_None=True, doc="""
        When every bucket last answered (UTC).""")

    listing = param.Boolean(default=False, doc="""
        Whether a listing of the store is under way.""")

    dask = param.ClassSelector(class_=DaskSettings, allow_None=True, doc="""
        The Dask cluster that reads Parquet score tables (objects and folders
        of parts) and summarises them on its workers; None reads every table
        in this process.""")

    def __init__(self, **params):
        super().__init__(**params)
        # Per selector, the newest run when it was last offered.
        self._followed: dict[str, str | None] = {}
        # Per bucket role, the objects of its last successful listing.
        self._listed: dict[str, list[ArtifactInfo]] = {}

    @classmethod
    def from_env(cls, environ=None, listed: bool = True, **params) -> Catalog:
        """A catalog over the store the environment configures.

        With ``listed`` the buckets are listed before it is returned; a
        served page passes False and lists on a worker thread.
        """
        env = os.environ if environ is None else environ
        store = shared_store(StoreConfig.from_env(env))
        params.setdefault("dask", DaskSettings.from_env(env))
        catalog = cls(store=store, **params)
        if listed:
            catalog.refresh()
        return catalog

    def refresh(self) -> None:
        """List every bucket again; keep choices that still exist."""
        if self.store is not None:
            self.apply_listing(self.fetch_listing())

    def fetch_listing(self) -> StoreListing:
        """Ask the store what each bucket holds; no parameter changes here,
        so a served page can call it on a worker thread."""
        listing = StoreListing()
        if self.store is None:
            return listing
        roles = [role for role in BUCKET_ROLES if role in self.store.config.buckets]
        with ThreadPoolExecutor(max_workers=len(roles)) as pool:
            answers = dict(zip(roles, pool.map(self._list_role, roles), strict=True))
        for role, (artifacts, problem) in answers.items():
            if problem is None:
                listing.objects[role] = artifacts
            else:
                listing.problems[role] = problem
        return listing

    def _list_role(self, role: str) -> tuple[list[ArtifactInfo], str | None]:
        try:
            # Only the scores bucket holds tables split into folders of parts.
            return self.store.list_artifacts(self.store.bucket(role),
                                             folders=role == "scores"), None
        except Exception as exc:
            log.warning("refresh failed role=%s reason=%s", role, exc)
            return [], str(exc)

    def apply_listing(self, listing: StoreListing) -> None:
        """Show what ``listing`` found; a bucket that did not answer keeps the
        objects it last listed, so the views keep their data during an outage."""
        self._listed.update(listing.objects)
        with param.parameterized.batch_call_watchers(self):
            self._apply_listing(self._listed)
            self.problems = dict(listing.problems)
            self.last_refresh = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            if not listing.problems:
                self.last_good_refresh = self.last_refresh

    def _apply_listing(self, listed: dict[str, list[ArtifactInfo]]) -> None:
        models = _models(listed)
        evaluations, score_tables = _split_eval_bucket(listed.get("eval", []))
        silver = _silver(listed)
        score_tables += _score_tables(listed)
        event_tables = sorted(silver + score_tables, key=lambda a: a.sort_key)
        self.models, self.evaluations = models, evaluations
        self.event_tables = event_tables
        self._update_selector("model", [a.name for a in models], latest(models))
        preferred = latest(score_tables) or latest(silver)
        self._update_selector("events", [a.path for a in event_tables], preferred,
                              key="path")

    def _update_selector(self, name, options, preferred, key="name") -> None:
        """Offer ``options``; follow the newest run unless the analyst chose
        an older one that still exists."""
        current = getattr(self, name)
        newest = getattr(preferred, key) if preferred else None
        was_following = current == self._followed.get(name)
        self._followed[name] = newest
        self.param[name].objects = list(reversed(options))
        if current not in options or was_following:
            setattr(self, name, newest)

    @property
    def selected_model(self) -> ArtifactInfo | None:
        return next((a for a in self.models if a.name == self.model), None)

    @property
    def selected_events(self) -> ArtifactInfo | None:
        return next((a for a in self.event_tables if a.path == self.events), None)

    @property
    def object_counts(self) -> dict[str, int]:
        return {"models": len(self.models), "evaluations": len(self.evaluations),
                "event tables": len(self.event_tables)}

    def load_model(self, info: ArtifactInfo | None = None) -> ModelArtifact:
        """The selected (or given) model, read once per process."""
        info = info or self.selected_model
        if info is None:
            raise LookupError(self.why_empty("models", "model"))
        return self.store.load(info, read_model)

    def load_evaluations(self) -> tuple[pd.DataFrame, dict[str, str]]:
        """All runs' metrics as a long table, and the objects that failed."""
        rows, failures = [], {}
        for info in self.evaluations:
            try:
                metrics = self.store.load(info, read_evaluation)
            except Exception as exc:
                failures[info.path] = str(exc)
                continue
            rows.append(_metric_rows(info, metrics))
        if not rows:
            return _empty_history(), failures
        return pd.concat(rows, ignore_index=True), failures

    def load_events(self) -> ScoredEvents | DaskEvents:
        """The selected events, normalised; silver tables scored by the model;
        with a Dask cluster, Parquet score tables held by its workers."""
        info = self.selected_events
        if info is None:
            raise LookupError(self.why_empty("silver", "events table"))
        return self._events(info, self.selected_model)

    def preload(self, listing: StoreListing) -> None:
        """Read and parse what a page shows first from ``listing`` (the newest
        events, model and every evaluation) into the shared cache.

        A served page calls this on its listing thread, so that the first
        page after a new run does the store reads and the scoring there, not
        on the event loop. Failures are left for the views to report.
        """
        if self.store is None:
            return
        model = latest(_models(listing.objects))
        evaluations, score_tables = _split_eval_bucket(listing.objects.get("eval", []))
        events = latest(score_tables + _score_tables(listing.objects)) or latest(
            _silver(listing.objects))
        tasks = [lambda: self._events(events, model)] if events else []
        tasks += [lambda info=info: self.store.load(info, read_evaluation)
                  for info in evaluations]
        for task in tasks:
            try:
                task()
            except Exception as exc:
                log.debug("preload skipped reason=%s", exc)

    def _events(self, info: ArtifactInfo,
                model_info: ArtifactInfo | None) -> ScoredEvents | DaskEvents:
        table = self._table(info)
        if isinstance(table, ScoredEvents | DaskEvents):
            return table
        if model_info is None:
            raise LookupError(
                f"'{info.path}' holds unscored events and there is no model to "
                f"score them with: {self.why_empty('models', 'model')}")
        model = self.load_model(model_info)
        return self.store.remember(
            ("scored", info.path, info.etag, model_info.path, model_info.etag),
            lambda: score_events(table, model, info.path))

    def _table(self, info: ArtifactInfo) -> EventTable:
        return load_event_table(self.store, info, self.dask,
                                silver_bucket=self.store.bucket("silver"))

    def why_empty(self, role: str, what: str) -> str:
        """Why there is no ``what`` to show from the ``role`` bucket."""
        if self.store is None:
            return "no store is configured"
        if self.last_refresh is None:
            return "the store is being listed"
        bucket = self.store.config.buckets.get(role, role)
        if role in self.problems:
            return self.problems[role]
        return f"bucket '{bucket}' holds no {what}"


def _models(listed: dict[str, list[ArtifactInfo]]) -> list[ArtifactInfo]:
    return [a for a in listed.get("models", []) if a.suffix in MODEL_SUFFIXES]


def _silver(listed: dict[str, list[ArtifactInfo]]) -> list[ArtifactInfo]:
    return [a for a in listed.get("silver", []) if a.suffix == ".parquet"]


def _score_tables(listed: dict[str, list[ArtifactInfo]]) -> list[ArtifactInfo]:
    return [a for a in listed.get("scores", [])
            if a.partitioned or a.suffix in TABLE_SUFFIXES]


def _split_eval_bucket(objects: list[ArtifactInfo]):
    """``eval_*`` objects are evaluations; other tables there may be scores."""
    tables = [a for a in objects if a.suffix in TABLE_SUFFIXES]
    evaluations = [a for a in tables if a.name.startswith("eval")]
    others = [a for a in tables if not a.name.startswith("eval")
              and a.suffix != ".json"]
    return evaluations, others


def _metric_rows(info: ArtifactInfo, metrics: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({
        "run": info.name,
        "run_time": info.run_time,
        "metric": metrics.index.astype(str),
        "value": metrics.to_numpy(dtype=float),
    })


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame({
        "run": pd.Series(dtype=str), "run_time": pd.Series(dtype="datetime64[ns]"),
        "metric": pd.Series(dtype=str), "value": pd.Series(dtype=float),
    })
