"""The same reports on Spark, for event data that outgrows one machine.

Only the bounding runs on the cluster — the same steps as :mod:`bounding`, in Spark's
DataFrame API: cap each (subject, partition) at C events, keep K partitions per subject
chosen by a salted hash of its own cells, total per partition. The totals (one row per
partition) come back to the driver, where :class:`~needtoknow.analytics.reports.Reports`
plans, charges, adds OpenDP's noise and ledgers exactly as it does for the embedded
store::

    Reports(vault.scope, SparkEvents(spark.read.parquet("s3://…/events/"))).run(spec, "ad_network")

Needs ``pip install needtoknow[spark]`` and a Java runtime.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from needtoknow.guards.extras import require

require("spark")

# ruff: noqa: E402 - imported after the check of their extra
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from needtoknow.analytics.bounding import BIN, Bounded, assemble, key_columns
from needtoknow.analytics.spec import ReportSpec


class SparkEvents:
    """Events in a Spark DataFrame with the store's columns (``store.COLUMNS``)."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame

    def bound(self, spec: ReportSpec, salt: int) -> Bounded:
        keys = key_columns(spec)
        c = spec.max_per_partition
        rows = self._selected(spec)
        cells = rows.groupBy("subject", *keys).agg(
            F.least(F.count(F.lit(1)), F.lit(c)).cast("long").alias("n"),
            F.round(F.least(F.count(F.lit(1)), F.lit(c)) * F.avg("v")).cast("long").alias("s"),
        )
        order = Window.partitionBy("subject").orderBy(F.xxhash64("subject", *keys, F.lit(salt)))
        kept = cells.withColumn("rank", F.row_number().over(order)).where(
            F.col("rank") <= spec.max_partitions
        )
        totals = kept.groupBy(*keys).agg(F.sum("n").alias("n"), F.sum("s").alias("s"))
        text = [F.col(k).cast("string").alias(k) for k in keys]
        return assemble(spec, totals.select(*text, "n", "s").collect())

    def export(self, destination: Path) -> int:
        """Every event to Parquet files under ``destination`` (a directory)."""
        self.frame.write.mode("errorifexists").parquet(str(destination))
        return int(self.frame.count())

    def _selected(self, spec: ReportSpec) -> DataFrame:
        """The spec's events, each with its clamped value ``v`` (and histogram bin)."""
        rows = self.frame.where(F.col("day").between(spec.start, spec.end))
        for name in spec.by:
            rows = rows.where(F.col(name).isNotNull())
        session = self.frame.sparkSession
        for name, listed in spec.keys.items():
            if name != "day":  # a broadcast semi-join: key lists run to 10^6 values
                wanted = session.createDataFrame([(value,) for value in listed], [name])
                rows = rows.join(F.broadcast(wanted), on=name, how="left_semi")
        if spec.kinds:
            rows = rows.where(F.col("kind").isin(list(spec.kinds)))
        if spec.consent is not None:
            rows = rows.where(F.array_contains(F.col("consented"), spec.consent))
        value: Column = F.lit(0)
        if spec.value_bounds is not None:
            low, high = spec.value_bounds
            rows = rows.where(F.col("value").isNotNull())
            value = F.least(F.greatest(F.col("value"), F.lit(low)), F.lit(high))
        rows = rows.withColumn("v", value)
        if spec.measure == "histogram":
            label: Column | None = None
            for lo, hi in itertools.pairwise(spec.bins):
                inside = (F.col("v") >= lo) & (F.col("v") < hi)
                text = F.lit(f"[{lo},{hi})")
                label = F.when(inside, text) if label is None else label.when(inside, text)
            assert label is not None
            rows = rows.withColumn(BIN, label).where(F.col(BIN).isNotNull())
        return rows
