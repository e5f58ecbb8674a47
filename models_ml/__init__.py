"""Attrition-risk and account-loss models: features, estimators, backtest, fairness,
drift, training, scoring and the model card (see README, "Attrition risk and
account-loss exposure")."""
