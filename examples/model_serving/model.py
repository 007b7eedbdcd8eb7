"""The example's model: a scikit-learn classifier of iris flowers.

Trained when a worker starts, from the Iris data set that ships inside scikit-learn (no
network). Module-level functions, so a process pool can import them too.
"""

from __future__ import annotations

from typing import Any

SPECIES = ("setosa", "versicolor", "virginica")


def train() -> Any:
    """Fit a small pipeline on the bundled Iris data (about 50 ms)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = load_iris(return_X_y=True)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, labels)


def predict(model: Any, rows: list[list[float]]) -> list[str]:
    """Classify `rows` (each: sepal length and width, petal length and width, in cm)."""
    return [SPECIES[label] for label in model.predict(rows)]
