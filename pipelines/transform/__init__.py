"""The transform step: dbt build of the KPI marts (DuckDB, or Spark for scale)."""

from pipelines.transform.build import TransformError, TransformResult, build_duckdb
from pipelines.transform.kpis import format_kpis, headline_kpis

__all__ = ["TransformError", "TransformResult", "build_duckdb", "format_kpis", "headline_kpis"]
