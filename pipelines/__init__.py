"""repradar: sales KPI marts and an attrition early warning from CRM and HR exports."""
