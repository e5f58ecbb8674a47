"""HR risk alerts: drafted from the restricted marts, recorded in ops.alert_outbox,
delivered through apprise, Prefect notification blocks or a file outbox."""
