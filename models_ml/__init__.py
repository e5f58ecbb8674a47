"""Attrition-risk and customer-loss models (issue #5). Nothing here yet."""
