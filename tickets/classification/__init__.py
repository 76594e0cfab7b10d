"""Ticket classification, on premise: a scikit-learn text model predicts the
category (and priority, when the training data has it) with a confidence;
manager-defined keyword rules stand in while no model is sure enough; urgency
cues and the customer's tone raise the priority.

- `model`     the feature pipeline, training, evaluation, calibrated prediction
- `store`     versioned artifacts in ClassifierModel rows, loaded once per process
- `training`  training data (resolved tickets or a CSV) and the train services
- `rules`     KeywordRule matching
- `sentiment` the customer's tone (VADER lexicon, offline)
- `urgency`   cues that raise the priority, with the reason
- `steps`     the intake step `classify_step`
- `tasks`     the periodic retraining job
"""
