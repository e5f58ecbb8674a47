"""`repradar`: the one command line of the product. Every subcommand has --help.

Exit codes (`pipelines.errors`): 0 success, 1 failure with a message, 2 usage error,
3 input rejected by validation (nothing changed), 4 the warehouse is busy (another run
holds it), 5 some alerts could not be delivered (kept pending, retried on the next run).

One module per group of commands; each command imports its step's code inside its body,
so `repradar --help` loads none of dbt, Prefect, scikit-learn, pandas or ReportLab.
"""

from __future__ import annotations

import os

import typer

from pipelines.cli import (
    generate_commands,
    ingest_commands,
    model_commands,
    operations_commands,
    report_commands,
    transform_commands,
)
from pipelines.cli.alerts_commands import alerts_app
from pipelines.cli.mapping_commands import mapping_app
from pipelines.cli.privacy_commands import forget_command
from pipelines.cli.pseudonym_commands import pseudonyms_app
from pipelines.file_modes import keep_files_private

# People data: no usage telemetry from the temporary Prefect server unless asked for (it
# also races the server's SQLite file: "database is locked"). Set before Prefect loads.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary server of a run without $PREFECT_API_URL needs more than Prefect's 20 s
# to start on a busy 2-core machine; a run should wait for it rather than fail.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    name="repradar",
    help=(
        "repradar turns CRM and HR exports into KPI marts, a leadership report and an "
        "attrition early warning for sales teams."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def keep_what_is_written_private() -> None:
    # Every file a command writes is its owner's alone (pipelines.file_modes).
    keep_files_private()


app.command("generate")(generate_commands.generate_command)
app.command("ingest")(ingest_commands.ingest_command)
app.command("transform")(transform_commands.transform_command)
app.command("docs")(transform_commands.docs_command)
app.command("train")(model_commands.train_command)
app.command("score")(model_commands.score_command)
app.command("demo")(operations_commands.demo_command)
app.command("report")(report_commands.report_command)
app.add_typer(alerts_app, name="alerts")
app.add_typer(mapping_app, name="mapping")
app.add_typer(pseudonyms_app, name="pseudonyms")
app.command("forget")(forget_command)
app.command("run")(operations_commands.run_command)
app.command("serve")(operations_commands.serve_command)
